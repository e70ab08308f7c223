# Script mode (cmake -P): writes man pages generated from the built `gemdirect` binary's --help texts,
# so the pages always describe the options of the binary that is packaged. Needs no network and no
# help2man: the help text goes into the page verbatim (preformatted), in troff-safe form.
#   cmake -DGD_BIN=<gemdirect> -DGD_OUT_DIR=<dir> -DGD_VERSION=<x.y.z> -P GdManPage.cmake
# Writes gemdirect.1 and gemdirect-<command>.1 for each command `gemdirect --help` lists.
if(NOT GD_BIN OR NOT GD_OUT_DIR OR NOT GD_VERSION)
  message(FATAL_ERROR "GdManPage.cmake: GD_BIN, GD_OUT_DIR and GD_VERSION are required")
endif()

# `sweep` draws charts off-screen; no display is needed for --help, but keep the build headless anyway.
set(ENV{QT_QPA_PLATFORM} offscreen)

function(gd_help_text out)
  execute_process(COMMAND "${GD_BIN}" ${ARGN} --help
    OUTPUT_VARIABLE text ERROR_VARIABLE err RESULT_VARIABLE rc TIMEOUT 60)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " what "${ARGN}")
    message(FATAL_ERROR "gemdirect ${what} --help exited with ${rc}: ${err}")
  endif()
  # QCommandLineParser prints the invoked path; the page names the installed command.
  string(REPLACE "${GD_BIN}" "gemdirect" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

# Verbatim text in a no-fill block: backslashes escaped, lines starting with a control character
# (. or ') neutralised, hyphens kept as ASCII so options can be searched and copied.
function(gd_roff_block out text)
  string(REPLACE "\\" "\\e" text "${text}")
  string(REPLACE "-" "\\-" text "${text}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" text "${text}")
  string(REGEX REPLACE "\n+$" "" text "${text}")
  set(${out} ".nf\n${text}\n.fi\n" PARENT_SCOPE)
endfunction()

# string(TIMESTAMP) honours SOURCE_DATE_EPOCH, so reproducible builds get a fixed date.
string(TIMESTAMP today "%Y-%m-%d" UTC)
file(MAKE_DIRECTORY "${GD_OUT_DIR}")

gd_help_text(usage)
string(REGEX MATCH "Commands:\n(.*)" commands_block "${usage}")
string(REGEX MATCHALL "\n  [a-z][a-z0-9-]*" command_lines "\n${CMAKE_MATCH_1}")
set(commands "")
foreach(line IN LISTS command_lines)
  string(STRIP "${line}" cmd)
  list(APPEND commands "${cmd}")
endforeach()
list(REMOVE_DUPLICATES commands)
if(NOT commands)
  message(FATAL_ERROR "GdManPage.cmake: no commands found in `gemdirect --help`")
endif()

set(see_also "")
foreach(cmd IN LISTS commands)
  list(APPEND see_also ".BR gemdirect\\-${cmd} (1)")
endforeach()
list(JOIN see_also ",\n" see_also)

gd_roff_block(body "${usage}")
file(WRITE "${GD_OUT_DIR}/gemdirect.1"
  ".TH GEMDIRECT 1 \"${today}\" \"gemdirect ${GD_VERSION}\" \"gemDirect Studio\"\n"
  ".SH NAME\ngemdirect \\- render stories through a local LLM and ComfyUI, with auditable telemetry\n"
  ".SH SYNOPSIS\n.B gemdirect\n.I command\n[\\fIoptions\\fR]\n"
  ".SH DESCRIPTION\n${body}"
  ".SH SEE ALSO\n${see_also}\n")

foreach(cmd IN LISTS commands)
  gd_help_text(help ${cmd})
  gd_roff_block(body "${help}")
  string(TOUPPER "${cmd}" upper)
  file(WRITE "${GD_OUT_DIR}/gemdirect-${cmd}.1"
    ".TH GEMDIRECT\\-${upper} 1 \"${today}\" \"gemdirect ${GD_VERSION}\" \"gemDirect Studio\"\n"
    ".SH NAME\ngemdirect\\-${cmd} \\- the \\fBgemdirect ${cmd}\\fR command\n"
    ".SH SYNOPSIS\n.B gemdirect ${cmd}\n[\\fIoptions\\fR]\n"
    ".SH DESCRIPTION\n${body}"
    ".SH SEE ALSO\n.BR gemdirect (1)\n")
endforeach()

list(LENGTH commands n)
message(STATUS "gemdirect man pages: gemdirect.1 and ${n} command pages in ${GD_OUT_DIR}")

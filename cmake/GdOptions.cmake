# One INTERFACE target carries the language level, warnings and Qt defines for every project target.
# Nothing here touches global flags.
add_library(gd_options INTERFACE)
target_compile_features(gd_options INTERFACE cxx_std_20)
target_compile_options(gd_options INTERFACE
  $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Wpedantic>
  $<$<CXX_COMPILER_ID:GNU>:-Wshadow=local> # clang has no -Wshadow=local (the fuzz preset builds with clang)
  $<$<CXX_COMPILER_ID:GNU,Clang>:-Wnon-virtual-dtor -Wno-missing-field-initializers>)
target_compile_definitions(gd_options INTERFACE
  QT_NO_CAST_FROM_ASCII
  QT_NO_CAST_TO_ASCII
  QT_NO_URL_CAST_FROM_STRING
  QT_USE_QSTRINGBUILDER
  QT_NO_FOREACH
  QT_NO_KEYWORDS
  QT_STRICT_ITERATORS
  GD_APP_VERSION="${PROJECT_VERSION}")
set(CMAKE_CXX_EXTENSIONS OFF)

option(GD_SANITIZE "Build every project target with AddressSanitizer + UndefinedBehaviorSanitizer" OFF)
option(GD_BUILD_FUZZ "Build the libFuzzer targets in tests/fuzz (clang only; implies GD_SANITIZE)" OFF)
if(GD_BUILD_FUZZ AND NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  message(FATAL_ERROR "GD_BUILD_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++")
endif()
if(GD_SANITIZE OR GD_BUILD_FUZZ)
  # No recovery: the first UB report aborts the process, so a sanitizer finding fails its test
  # instead of scrolling past in the log.
  target_compile_options(gd_options INTERFACE -fsanitize=address,undefined -fno-sanitize-recover=all
                                              -fno-omit-frame-pointer)
  target_link_options(gd_options INTERFACE -fsanitize=address,undefined -fno-sanitize-recover=all)
endif()
if(GD_BUILD_FUZZ)
  # Coverage instrumentation for the code under test; only the fuzz executables link libFuzzer's main.
  target_compile_options(gd_options INTERFACE -fsanitize=fuzzer-no-link)
endif()

# gd_add_core_library(NAME SOURCES... [DEPS ...]): one static library per core area.
# Core areas link Qt Core/Network/Gui/WebSockets only; Widgets and Charts are not found in core.
function(gd_add_core_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_link_libraries(${name} PUBLIC gd_options ${ARG_DEPS})
  # Headers are included as <area/Class.h>: the core root is the include root for core users only.
  target_include_directories(${name} PUBLIC "${PROJECT_SOURCE_DIR}/core")
endfunction()

# gd_add_ui_library(NAME SOURCES... [DEPS ...]): one static library per ui/ panel folder. Links Qt
# Widgets; headers are included as "<folder>/Class.h" with ui/ as the include root.
function(gd_add_ui_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_link_libraries(${name} PUBLIC gd_options Qt6::Widgets ${ARG_DEPS})
  target_include_directories(${name} PUBLIC "${PROJECT_SOURCE_DIR}/ui")
endfunction()

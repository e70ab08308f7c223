# gd_add_test(NAME SOURCES... LIBS ... LABEL core|ui|integration [TIMEOUT s])
# One QtTest executable per unit; registered with CTest under its label.
function(gd_add_test name)
  cmake_parse_arguments(ARG "" "LABEL;TIMEOUT" "SOURCES;LIBS" ${ARGN})
  if(NOT ARG_LABEL)
    set(ARG_LABEL core)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE gd_options Qt6::Test ${ARG_LIBS})
  target_compile_definitions(${name} PRIVATE GD_TEST_DATA_DIR="${PROJECT_SOURCE_DIR}/tests/data"
    GD_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABEL}" TIMEOUT ${ARG_TIMEOUT}
    ENVIRONMENT "QT_QPA_PLATFORM=offscreen;GD_LOG_LEVEL=warn")
endfunction()

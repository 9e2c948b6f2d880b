# artistsaid_library(NAME SOURCES ... DEPS ...)
#   A component library `artistsaid_<NAME>` with the alias `artistsaid::<NAME>`;
#   include paths are rooted at the repository ("engine/core/money.hpp").
function(artistsaid_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(artistsaid_${name} STATIC ${ARG_SOURCES})
  add_library(artistsaid::${name} ALIAS artistsaid_${name})
  target_include_directories(artistsaid_${name} PUBLIC ${ARTISTSAID_SOURCE_DIR})
  target_link_libraries(artistsaid_${name} PUBLIC ${ARG_DEPS} PRIVATE artistsaid::warnings ${ARG_PRIVATE_DEPS})
endfunction()

# add_artistsaid_test(NAME SOURCES ... LIBS ... LABEL unit|integration)
#   One doctest executable registered with CTest under the given label. Unit tests
#   (*_test.cpp) need no network; integration tests (*_itest.cpp) read the services'
#   URLs from ARTISTSAID_TEST_DATABASE_URL / ARTISTSAID_TEST_REDIS_URL.
function(add_artistsaid_test name)
  cmake_parse_arguments(ARG "" "LABEL;TIMEOUT" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE artistsaid::test_support ${ARG_LIBS} artistsaid::warnings)
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 600)
  endif()
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS ${ARG_LABEL} TIMEOUT ${ARG_TIMEOUT}
    ENVIRONMENT "ARTISTSAID_SOURCE_DIR=${ARTISTSAID_SOURCE_DIR};ARTISTSAID_BINARY=$<TARGET_FILE:artistsaid>")
endfunction()

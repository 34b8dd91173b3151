# OlmFuzz.cmake — libFuzzer targets that run in every `make test`.
#
#   olm_add_fuzz(NAME
#                SOURCES file.c...        the target: defines LLVMFuzzerTestOneInput
#                CORPUS dir               seed corpus kept in the repository (read only)
#                [SECONDS n]              budget per `make test` run (default 10)
#                [MAX_LEN n]              libFuzzer -max_len (default: libFuzzer's choice)
#                [DICT file]              libFuzzer dictionary
#                [ARGS arg...]            more libFuzzer arguments
#                [ENV VAR=value...]       environment of the run (e.g. paths of fixtures)
#                [FIXTURES name...])      ctest fixtures the run needs (FIXTURES_REQUIRED)
#
# Builds fuzz_NAME with clang -fsanitize=fuzzer,address,undefined against every
# src/**/*.c (compiled once more with clang into one archive, shared by all targets)
# and registers the ctest `fuzz_NAME` (label `fuzz`), which runs it for SECONDS on
# a copy of the seed corpus in BUILD/fuzz/NAME/corpus (new inputs land there, never
# in the repository); crashes are written to BUILD/fuzz/NAME/crash-*.
# scripts/fuzz.sh NAME SECONDS runs the same test for longer (ONNXLLM_FUZZ_SECONDS).
#
# Only in the sanitizer build (ONNXLLM_SANITIZE=ON, what `make test-asan` configures)
# and only where clang can link libFuzzer; elsewhere olm_add_fuzz does nothing (a
# configure message says why, and ONNXLLM_REQUIRE_REFERENCES=1 — CI — makes that fatal).
include_guard(GLOBAL)

set(OLM_FUZZ_DIR ${CMAKE_BINARY_DIR}/fuzz)
set(OLM_FUZZ_RUNNER ${CMAKE_CURRENT_LIST_DIR}/olm_fuzz_run.sh)

function(_olm_fuzz_setup)
  get_property(done GLOBAL PROPERTY OLM_FUZZ_SETUP_DONE)
  if(done)
    return()
  endif()
  set_property(GLOBAL PROPERTY OLM_FUZZ_SETUP_DONE ON)
  set_property(GLOBAL PROPERTY OLM_FUZZ_OK OFF)
  set(why "")
  if(NOT ONNXLLM_SANITIZE)
    return()  # fuzzing runs in the sanitizer build only
  endif()
  find_program(OLM_CLANG NAMES clang clang-16 clang-15 clang-14)
  if(NOT OLM_CLANG)
    set(why "clang not found")
  elseif(NOT OLM_FUZZ_PROBE STREQUAL OLM_CLANG)
    file(WRITE ${OLM_FUZZ_DIR}/probe.c "#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n")
    execute_process(COMMAND ${OLM_CLANG} -fsanitize=fuzzer,address,undefined ${OLM_FUZZ_DIR}/probe.c -o ${OLM_FUZZ_DIR}/probe
                    RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
    if(rc EQUAL 0)
      set(OLM_FUZZ_PROBE ${OLM_CLANG} CACHE INTERNAL "clang that links libFuzzer")
    else()
      set(why "${OLM_CLANG} cannot link -fsanitize=fuzzer (libFuzzer missing)")
    endif()
  endif()
  if(why)
    if("$ENV{ONNXLLM_REQUIRE_REFERENCES}" STREQUAL "1")
      message(FATAL_ERROR "fuzz targets cannot be built: ${why} (ONNXLLM_REQUIRE_REFERENCES=1)")
    endif()
    message(WARNING "fuzz targets disabled: ${why}")
    return()
  endif()
  set_property(GLOBAL PROPERTY OLM_FUZZ_OK ON)

  # The library once more, with clang and the fuzzer's coverage instrumentation.
  set(flags -g -O1 -std=c11 -D_GNU_SOURCE -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION -Wall -Wextra -Werror
            -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
            -I${CMAKE_SOURCE_DIR}/include -I${CMAKE_SOURCE_DIR}/src -I${CMAKE_SOURCE_DIR}/tests -I${ORT_INCLUDE_DIR})
  set(libs ${ORT_LIBRARY} -Wl,-rpath,${ORT_LIB_DIR})
  foreach(p CJSON UTF8PROC PCRE2 MHD CURL CRYPTO)
    list(APPEND flags ${${p}_CFLAGS})
    list(APPEND libs ${${p}_LDFLAGS})
  endforeach()
  list(APPEND libs -lpthread -lm)
  file(MAKE_DIRECTORY ${OLM_FUZZ_DIR}/obj)
  file(GLOB_RECURSE srcs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/*.c)
  set(objs "")
  foreach(src ${srcs})
    file(RELATIVE_PATH rel ${CMAKE_SOURCE_DIR}/src ${src})
    string(REPLACE "/" "_" obj ${rel})
    set(obj ${OLM_FUZZ_DIR}/obj/${obj}.o)
    add_custom_command(OUTPUT ${obj}
      COMMAND ${OLM_CLANG} ${flags} -MD -MF ${obj}.d -c ${src} -o ${obj}
      DEPENDS ${src} DEPFILE ${obj}.d COMMENT "clang (fuzz) src/${rel}" VERBATIM)
    list(APPEND objs ${obj})
  endforeach()
  set(lib ${OLM_FUZZ_DIR}/libonnxllm_fuzz.a)
  add_custom_command(OUTPUT ${lib}
    COMMAND ${CMAKE_COMMAND} -E rm -f ${lib}
    COMMAND ${CMAKE_AR} qcs ${lib} ${objs}
    DEPENDS ${objs} COMMENT "archive libonnxllm_fuzz.a" VERBATIM)
  add_custom_target(onnxllm_fuzz_lib DEPENDS ${lib})
  set_property(GLOBAL PROPERTY OLM_FUZZ_FLAGS "${flags}")
  set_property(GLOBAL PROPERTY OLM_FUZZ_LIBS "${libs}")
endfunction()

function(olm_add_fuzz name)
  cmake_parse_arguments(F "" "CORPUS;SECONDS;MAX_LEN;DICT" "SOURCES;ARGS;ENV;FIXTURES" ${ARGN})
  if(NOT F_SOURCES OR NOT F_CORPUS)
    message(FATAL_ERROR "olm_add_fuzz(${name}): SOURCES and CORPUS are required")
  endif()
  _olm_fuzz_setup()
  get_property(ok GLOBAL PROPERTY OLM_FUZZ_OK)
  if(NOT ok)
    return()
  endif()
  get_property(flags GLOBAL PROPERTY OLM_FUZZ_FLAGS)
  get_property(libs GLOBAL PROPERTY OLM_FUZZ_LIBS)
  set(lib ${OLM_FUZZ_DIR}/libonnxllm_fuzz.a)
  if(NOT F_SECONDS)
    set(F_SECONDS 10)
  endif()
  set(dir ${OLM_FUZZ_DIR}/${name})
  set(bin ${dir}/fuzz_${name})
  set(srcs "")
  foreach(s ${F_SOURCES})
    get_filename_component(s ${s} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
    list(APPEND srcs ${s})
  endforeach()
  get_filename_component(corpus ${F_CORPUS} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
  file(MAKE_DIRECTORY ${dir})
  add_custom_command(OUTPUT ${bin}
    COMMAND ${OLM_CLANG} ${flags} -fsanitize=fuzzer -MD -MF ${bin}.d ${srcs} ${lib} ${libs} -o ${bin}
    DEPENDS ${srcs} ${lib} DEPFILE ${bin}.d COMMENT "clang (fuzz) fuzz_${name}" VERBATIM)
  add_custom_target(fuzz_${name} ALL DEPENDS ${bin})
  add_dependencies(fuzz_${name} onnxllm_fuzz_lib)
  set(args -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=${dir}/)
  if(F_MAX_LEN)
    list(APPEND args -max_len=${F_MAX_LEN})
  endif()
  if(F_DICT)
    get_filename_component(dict ${F_DICT} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
    list(APPEND args -dict=${dict})
  endif()
  list(APPEND args ${F_ARGS})
  add_test(NAME fuzz_${name} COMMAND bash ${OLM_FUZZ_RUNNER} ${bin} ${F_SECONDS} ${dir}/corpus ${corpus} ${args})
  set_tests_properties(fuzz_${name} PROPERTIES LABELS fuzz)
  if(F_ENV)
    set_tests_properties(fuzz_${name} PROPERTIES ENVIRONMENT "${F_ENV}")
  endif()
  if(F_FIXTURES)
    set_tests_properties(fuzz_${name} PROPERTIES FIXTURES_REQUIRED "${F_FIXTURES}")
  endif()
endfunction()

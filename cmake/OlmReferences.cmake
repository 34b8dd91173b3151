# OlmReferences.cmake — the independent references tests compare with (Node packages
# with HF tokenizers / Jinja / official SDKs, tmux, clang's libFuzzer).
#
#   olm_reference(FOUND_VAR "what it is" "tests that need it")
#
# When FOUND_VAR is false the caller leaves those tests out; this says so at configure
# time — a warning locally, an error when ONNXLLM_REQUIRE_REFERENCES=1 (CI: a reference
# test that cannot run is not a pass). Test programs report a missing reference at run
# time as SKIP (tests/test.h), which fails under the same variable.
include_guard(GLOBAL)

function(olm_reference found what tests)
  if(${found})
    return()
  endif()
  if("$ENV{ONNXLLM_REQUIRE_REFERENCES}" STREQUAL "1")
    message(FATAL_ERROR "${what} missing: ${tests} cannot run (ONNXLLM_REQUIRE_REFERENCES=1; run scripts/setup-deps.sh)")
  endif()
  message(WARNING "${what} missing: ${tests} skipped")
endfunction()

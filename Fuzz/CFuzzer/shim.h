// libFuzzer's entry point for programs that have their own main (compiler-rt's
// FuzzerInterface.h). SwiftPM gives every executable a main of its own, so the fuzz targets
// start libFuzzer through this instead of its built-in main. Declared only: the symbol comes
// from the runtime that -sanitize=fuzzer links, and only fuzzing builds (-D FUZZING) use it.
#ifndef OICSR_FUZZER_SHIM_H
#define OICSR_FUZZER_SHIM_H
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
#endif

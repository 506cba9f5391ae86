/*
 * fuzz.h -- the entry point every harness defines (libFuzzer's), declared
 * once so that harnesses build with -Wmissing-prototypes and replay_main.c
 * can call them without clang.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

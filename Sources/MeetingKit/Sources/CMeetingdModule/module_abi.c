/* The ABI is a header; this file only gives SwiftPM a C source to compile. */
#include "meetingd_module.h"

// SPDX-License-Identifier: GPL-2.0
/* Instantiates rust_sockmod's tracepoints and their rust_do_trace_* entry points. */
#define CREATE_TRACE_POINTS
#define CREATE_RUST_TRACE_POINTS
#include "rsm_trace.h"

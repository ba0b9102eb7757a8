#pragma once
// The serial bridge role: one process per serial "DEV" { ... } block. It is
// the connection loop (core/io/conn_loop.h) with the raw or line framer, the
// device as one more watched fd, and a fan-out: every byte the device sends
// goes to every client, in order; what clients send goes to the device (with
// framing=line, one client's line whole, never mixed with another's). With
// connect= it also dials out and redials with back-off, keeping what the
// device sends while the link is down (bounded). Registered through
// core/proc/serial_hook.h.

#include "proc/serial_hook.h"

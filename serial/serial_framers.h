#pragma once
// The framers of a serial bridge's client connections (serial block's
// framing=): what the connection loop cuts from a client's bytes before they
// go to the device. Here rather than inside serial_bridge.cpp so that the
// fuzz target (tests/fuzz/serial_line.cpp) drives the same classes.

#include "io/conn_loop.h"

#include <cstddef>
#include <string_view>

namespace ser::serial {

constexpr size_t kMaxLine = 4096;   // framing=line: a longer line is passed on as it is

// framing=raw: whatever arrived is one frame.
class RawFramer final : public Framer {
public:
    FrameCut next(std::string_view buf) override { return {FrameCut::Kind::Frame, buf.size(), {}, nullptr}; }
};

// framing=line: up to and with the LF (a line that outgrows kMaxLine goes as it is).
class LineFramer final : public Framer {
public:
    FrameCut next(std::string_view buf) override
    {
        size_t lf = buf.find('\n');
        if (lf != std::string_view::npos)
            return {FrameCut::Kind::Frame, lf + 1, {}, nullptr};
        if (buf.size() >= kMaxLine)
            return {FrameCut::Kind::Frame, buf.size(), {}, nullptr};
        return {};
    }
};

}  // namespace ser::serial

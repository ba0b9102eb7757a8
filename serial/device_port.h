#pragma once
// The ComPort of RFC 2217 sessions (serial/rfc2217.h) over the bridge's open
// device: termios for the line, TIOCMBIS/TIOCMBIC/TIOCMGET for the modem
// lines, TIOCSBRK/TIOCCBRK for BREAK, TCFLSH for PURGE-DATA. A device without
// modem control lines (a pty) cannot set DTR or RTS: the requested state is
// then kept here and answered, and its modem lines read as all off.

#include "serial/rfc2217.h"

#include <functional>
#include <string>

namespace ser::serial {

class DevicePort final : public ComPort {
public:
    // `fd` is the bridge's device fd (-1 while closed) and `queue` its bytes
    // waiting for the device; both are read at each call. `to_device` queues
    // bytes for the device. All of them outlive this object.
    DevicePort(const std::string& name, const int& fd, std::string& queue,
               std::function<void(std::string_view)> to_device);

    bool line(LineSettings& out) override;
    void set_line(const LineSettings& want) override;
    bool signal(Signal s, bool set, bool on) override;
    uint8_t modem_lines() override;
    uint8_t line_state() override;
    void purge(uint8_t which) override;
    void write(std::string_view data) override { to_device_(data); }

private:
    const std::string& name_;
    const int& fd_;
    std::string& queue_;
    std::function<void(std::string_view)> to_device_;
    bool dtr_ = true, rts_ = true;   // a tty raises both at open; kept for devices without the lines
    bool break_ = false;             // the kernel cannot be asked
    bool said_no_lines_ = false;     // logged once
};

}  // namespace ser::serial

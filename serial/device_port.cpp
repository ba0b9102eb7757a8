// RFC 2217's device side (see device_port.h).
#include "serial/device_port.h"

#include "log.h"

#include <asm/termbits.h>   // TCIFLUSH & co. next to termios2 (as serial_device.cpp)
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace ser::serial {

DevicePort::DevicePort(const std::string& name, const int& fd, std::string& queue,
                       std::function<void(std::string_view)> to_device)
    : name_(name), fd_(fd), queue_(queue), to_device_(std::move(to_device))
{
}

bool DevicePort::line(LineSettings& out)
{
    return fd_ >= 0 && read_settings(fd_, out);
}

void DevicePort::set_line(const LineSettings& want)
{
    std::string err;
    if (fd_ >= 0 && !serial::set_line(fd_, want, err))
        LOG_NOTICE("serial %s: a client's line change was refused: %s", name_.c_str(), err.c_str());
}

bool DevicePort::signal(Signal s, bool set, bool on)
{
    if (s == Signal::Break) {
        if (set && fd_ >= 0 && ioctl(fd_, on ? TIOCSBRK : TIOCCBRK) == 0)
            break_ = on;
        else if (set)
            LOG_DBG("serial %s: BREAK %s: %s", name_.c_str(), on ? "on" : "off", std::strerror(errno));
        return break_;
    }
    int bit = s == Signal::Dtr ? TIOCM_DTR : TIOCM_RTS;
    bool& kept = s == Signal::Dtr ? dtr_ : rts_;
    if (set) {
        kept = on;
        if (fd_ >= 0 && ioctl(fd_, on ? TIOCMBIS : TIOCMBIC, &bit) != 0 && !said_no_lines_) {
            said_no_lines_ = true;
            LOG_DBG("serial %s: no modem control lines (%s): DTR/RTS requests are answered, not applied",
                    name_.c_str(), std::strerror(errno));
        }
    }
    int bits = 0;
    if (fd_ >= 0 && ioctl(fd_, TIOCMGET, &bits) == 0)
        return (bits & bit) != 0;
    return kept;
}

uint8_t DevicePort::modem_lines()
{
    int bits = 0;
    if (fd_ < 0 || ioctl(fd_, TIOCMGET, &bits) != 0)
        return 0;
    uint8_t r = 0;
    if (bits & TIOCM_CAR)
        r |= 0x80;
    if (bits & TIOCM_RNG)
        r |= 0x40;
    if (bits & TIOCM_DSR)
        r |= 0x20;
    if (bits & TIOCM_CTS)
        r |= 0x10;
    return r;
}

// Only the transmit side can be told: both "registers empty" bits when
// neither the bridge nor the kernel holds bytes for the device.
uint8_t DevicePort::line_state()
{
    int outq = 0;
    if (fd_ < 0 || ioctl(fd_, TIOCOUTQ, &outq) != 0)
        return 0;
    return outq == 0 && queue_.empty() ? 0x60 : 0;
}

void DevicePort::purge(uint8_t which)
{
    if (which & 2)
        queue_.clear();
    if (fd_ < 0)
        return;
    int how = which == 3 ? TCIOFLUSH : which == 1 ? TCIFLUSH : TCOFLUSH;
    if (ioctl(fd_, TCFLSH, how) != 0)
        LOG_DBG("serial %s: PURGE-DATA %u: %s", name_.c_str(), which, std::strerror(errno));
}

}  // namespace ser::serial

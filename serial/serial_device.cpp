// The tty device (see serial_device.h).
#include "serial/serial_device.h"

#include <asm/termbits.h>   // termios2, BOTHER (glibc's termios.h has neither)
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ser::serial {
namespace {

tcflag_t size_flag(int databits)
{
    switch (databits) {
    case 5: return CS5;
    case 6: return CS6;
    case 7: return CS7;
    default: return CS8;
    }
}

}  // namespace

int open_device(const SerialCfg& cfg, std::string& err)
{
    int fd = ::open(cfg.device.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        err = "open " + cfg.device + ": " + std::strerror(errno);
        return -1;
    }
    auto fail = [&](const char* what) {
        err = cfg.device + ": " + what + ": " + std::strerror(errno);
        ::close(fd);
        return -1;
    };
    if (!isatty(fd)) {
        errno = ENOTTY;
        return fail("not a tty");
    }
    if (ioctl(fd, TIOCEXCL) != 0)
        return fail("TIOCEXCL");
    if (!set_line(fd, settings_of(cfg), err)) {
        err = cfg.device + ": " + err;
        ::close(fd);
        return -1;
    }
    return fd;
}

LineSettings settings_of(const SerialCfg& cfg)
{
    LineSettings s;
    s.baud = static_cast<unsigned>(cfg.baudrate);
    s.databits = cfg.databits;
    s.parity = cfg.parity;
    s.stopbits = cfg.stopbits;
    s.flow = cfg.flow_control;
    s.raw = true;
    return s;
}

bool set_line(int fd, const LineSettings& want, std::string& err)
{
    struct termios2 t {};
    if (ioctl(fd, TCGETS2, &t) != 0) {
        err = std::string("TCGETS2: ") + std::strerror(errno);
        return false;
    }
    // Raw: no line editing, no echo, no signals, no CR/NL mapping, 8-bit clean.
    t.c_iflag &= ~static_cast<tcflag_t>(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON | IXOFF |
                                        IXANY);
    t.c_oflag &= ~static_cast<tcflag_t>(OPOST);
    t.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    t.c_cflag &= ~static_cast<tcflag_t>(CSIZE | PARENB | PARODD | CMSPAR | CSTOPB | CRTSCTS | CBAUD);
    t.c_cflag |= size_flag(want.databits) | CREAD | CLOCAL | BOTHER;
    switch (want.parity) {
    case Parity::None: break;
    case Parity::Even: t.c_cflag |= PARENB; break;
    case Parity::Odd: t.c_cflag |= PARENB | PARODD; break;
    case Parity::Mark: t.c_cflag |= PARENB | CMSPAR | PARODD; break;    // the parity bit always 1
    case Parity::Space: t.c_cflag |= PARENB | CMSPAR; break;            // always 0
    }
    if (want.stopbits == 2)
        t.c_cflag |= CSTOPB;
    if (want.flow == FlowControl::RtsCts)
        t.c_cflag |= CRTSCTS;
    else if (want.flow == FlowControl::XonXoff)
        t.c_iflag |= IXON | IXOFF;
    t.c_ispeed = t.c_ospeed = static_cast<speed_t>(want.baud);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (ioctl(fd, TCSETS2, &t) != 0) {
        err = "setting the line (" + std::to_string(want.baud) + " baud, TCSETS2): " + std::strerror(errno);
        return false;
    }
    return true;
}

bool read_settings(int fd, LineSettings& out)
{
    struct termios2 t {};
    if (ioctl(fd, TCGETS2, &t) != 0)
        return false;
    out.baud = t.c_ospeed;
    switch (t.c_cflag & CSIZE) {
    case CS5: out.databits = 5; break;
    case CS6: out.databits = 6; break;
    case CS7: out.databits = 7; break;
    default: out.databits = 8; break;
    }
    if (!(t.c_cflag & PARENB))
        out.parity = Parity::None;
    else if (t.c_cflag & CMSPAR)
        out.parity = (t.c_cflag & PARODD) ? Parity::Mark : Parity::Space;
    else
        out.parity = (t.c_cflag & PARODD) ? Parity::Odd : Parity::Even;
    out.stopbits = (t.c_cflag & CSTOPB) ? 2 : 1;
    out.flow = (t.c_cflag & CRTSCTS) ? FlowControl::RtsCts : (t.c_iflag & IXON) ? FlowControl::XonXoff
                                                                                 : FlowControl::None;
    out.raw = !(t.c_lflag & (ICANON | ECHO | ISIG)) && !(t.c_oflag & OPOST);
    return true;
}

}  // namespace ser::serial

#pragma once
// A serial device as the bridge uses it: opened non-blocking and exclusive
// (TIOCEXCL: a second program gets EBUSY instead of sharing it by accident),
// in raw mode with the block's line settings. Any baud rate Linux accepts
// (termios2 with BOTHER, so 250000 or 1000000 work as well as 115200).

#include "cfg/config.h"

#include <string>

namespace ser::serial {

// Opens cfg.device with cfg's settings. Returns the fd, or -1 with `err`
// set ("open /dev/ttyUSB0: No such file or directory", "... is not a tty").
int open_device(const SerialCfg& cfg, std::string& err);

// The line settings of an open tty, read back (for tests and serial.list).
struct LineSettings {
    unsigned baud = 0;
    int databits = 0;
    Parity parity = Parity::None;
    int stopbits = 0;
    FlowControl flow = FlowControl::None;
    bool raw = false;
};
bool read_settings(int fd, LineSettings& out);

// Sets an open tty's line (raw mode always; `want.raw` is not read). False
// with `err` set when the driver refuses it. open_device uses it with the
// block's settings; RFC 2217 clients change them at run time.
bool set_line(int fd, const LineSettings& want, std::string& err);

// The block's line settings as a LineSettings.
LineSettings settings_of(const SerialCfg& cfg);

}  // namespace ser::serial

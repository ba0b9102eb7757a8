#pragma once
// RFC 2217 (Telnet COM Port Control Option) for one client of a serial
// bridge: a state machine with no sockets and no device in it. Bytes from
// the client go in; out come data bytes for the device and reply bytes for
// the client; line changes the client asks for go to a ComPort (the bridge
// implements it over the device, the unit tests with a fake). Device bytes
// for the client pass through to_client(), which doubles IAC.
//
// Telnet: BINARY, SGA and COM-PORT-OPTION (44) are accepted both ways with
// the RFC 1143 "no loops" rules; anything else is refused (DONT/WONT). The
// data path is 8-bit clean whatever was negotiated (no CR NUL rewriting):
// that is what RFC 2217 clients such as pyserial expect. A subnegotiation
// longer than kMaxSubneg is discarded whole and counted.

#include "serial/serial_device.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace ser::serial {

namespace telnet {
constexpr uint8_t kSe = 240, kNop = 241, kBreak = 243, kSb = 250, kWill = 251, kWont = 252, kDo = 253,
                  kDont = 254, kIac = 255;
constexpr uint8_t kBinary = 0, kEcho = 1, kSga = 3, kComPort = 44;
}  // namespace telnet

// RFC 2217 commands as the client sends them; the server answers with +100.
enum class ComCmd : uint8_t {
    Signature = 0,
    SetBaudrate = 1,
    SetDatasize = 2,
    SetParity = 3,
    SetStopsize = 4,
    SetControl = 5,
    NotifyLinestate = 6,
    NotifyModemstate = 7,
    FlowSuspend = 8,
    FlowResume = 9,
    SetLinestateMask = 10,
    SetModemstateMask = 11,
    PurgeData = 12,
};
constexpr uint8_t kServerReply = 100;

// The device side of a session. Every call answers with what is true
// afterwards, so a reply never claims a change the device refused.
class ComPort {
public:
    virtual ~ComPort() = default;
    enum class Signal { Dtr, Rts, Break };
    // The current line settings; false when the device is not open.
    virtual bool line(LineSettings& out) = 0;
    // Applies `want` (a refusal is logged by the implementation).
    virtual void set_line(const LineSettings& want) = 0;
    // The state of an output signal, after setting it to `on` when `set`.
    virtual bool signal(Signal s, bool set, bool on) = 0;
    // Modem lines in RFC 2217 bits: CD 0x80, RI 0x40, DSR 0x20, CTS 0x10.
    virtual uint8_t modem_lines() = 0;
    // Line state in RFC 2217 bits (only what the device can tell).
    virtual uint8_t line_state() = 0;
    // Throws away unsent bytes: 1 from the device, 2 for it, 3 both.
    virtual void purge(uint8_t which) = 0;
    // Client data that came before a COM-PORT command, handed over ahead of
    // it so that it reaches the device first (at the old settings, as far as
    // it has left the kernel's queue when they change).
    virtual void write(std::string_view data) = 0;
};

std::string iac_escape(std::string_view data);

class Rfc2217Session {
public:
    static constexpr size_t kMaxSubneg = 256;   // SIGNATURE text is the longest legitimate one

    // `name` prefixes log lines ("serial /dev/ttyS0 client 3"); `signature`
    // answers a SIGNATURE query; device bytes held while the client has
    // suspended the flow are bounded by `max_held`.
    Rfc2217Session(ComPort& port, std::string name, std::string signature, size_t max_held);

    // Our side of the negotiation, sent once when the client is connected.
    std::string greeting();

    struct Out {
        std::string device;   // data for the device
        std::string reply;    // telnet bytes for the client
    };
    // Takes any cut of the client's stream (sequences may span calls).
    void input(std::string_view in, Out& out);

    // Device bytes for this client, IAC doubled, into `out`. While the client
    // has suspended the flow they are held instead; false when the held
    // bytes would go over max_held (the client should be dropped).
    bool to_client(std::string_view data, std::string& out);

    // Called with the device's current modem lines (ComPort bits) and line
    // state: the NOTIFY bytes due under the client's masks, or nothing.
    std::string poll(uint8_t modem, uint8_t line);

    bool com_port_enabled() const { return them_[kComPortIdx] == Opt::Yes || us_[kComPortIdx] == Opt::Yes; }
    // The client changed a line setting (baud, size, parity, stop, flow).
    bool changed_line() const { return changed_line_; }
    uint64_t discarded_subnegs() const { return discarded_subnegs_; }
    uint8_t modem_mask() const { return modem_mask_; }
    uint8_t line_mask() const { return line_mask_; }
    bool suspended() const { return suspended_; }

private:
    friend class Rfc2217Peer;   // tests: the subnegotiation buffer's size
    enum class State { Data, Iac, Verb, Sb, SbIac };
    enum class Opt : uint8_t { No, WantYes, Yes };
    static constexpr int kBinaryIdx = 0, kSgaIdx = 1, kComPortIdx = 2, kOpts = 3;

    void negotiate(uint8_t verb, uint8_t opt, Out& out);
    void subneg_done(Out& out);
    void command(uint8_t cmd, std::string_view value, Out& out);
    void set_control(uint8_t v, Out& out);
    void reply(uint8_t cmd, std::string_view value, Out& out);
    void reply(uint8_t cmd, uint8_t value, Out& out);
    void reply_line(uint8_t cmd, Out& out);
    // Sets one field of `s` (the line as read back) and applies it, only when
    // it differs: the read-back may lack what the device dropped (a pty
    // keeps PARODD but clears PARENB), and rewriting an unchanged field
    // would undo what an earlier command left there.
    template <typename T>
    void change(LineSettings& s, T& field, T value)
    {
        if (field == value)
            return;
        field = value;
        port_.set_line(s);
        changed_line_ = true;
    }
    void resume(Out& out);
    std::string modem_notify(uint8_t value);

    ComPort& port_;
    std::string name_, signature_;
    size_t max_held_;
    State st_ = State::Data;
    uint8_t verb_ = 0;
    std::string sb_;                 // the subnegotiation being read, bounded by kMaxSubneg
    bool sb_overflow_ = false;
    Opt us_[kOpts] = {Opt::No, Opt::No, Opt::No};     // we WILL
    Opt them_[kOpts] = {Opt::No, Opt::No, Opt::No};   // they WILL (we said DO)
    uint8_t line_mask_ = 0;          // RFC 2217's default: no line state notifications
    uint8_t modem_mask_ = 255;       // and every modem line change
    uint8_t last_modem_ = 0;         // CD/RI/DSR/CTS as last reported to this client
    uint8_t last_line_ = 0;
    bool suspended_ = false;
    std::string held_;               // device bytes while suspended, escaped
    bool changed_line_ = false;
    uint64_t discarded_subnegs_ = 0;
};

}  // namespace ser::serial

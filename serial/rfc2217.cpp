// RFC 2217 for one client (see rfc2217.h).
#include "serial/rfc2217.h"

#include "log.h"

#include <utility>

namespace ser::serial {
namespace {

using namespace telnet;

constexpr uint8_t kModemLines = 0xF0;   // CD, RI, DSR, CTS; the low nibble holds their deltas

// SET-CONTROL values (RFC 2217 section 3.5).
enum : uint8_t {
    kFlowQuery = 0, kFlowNone = 1, kFlowXon = 2, kFlowHw = 3,
    kBreakQuery = 4, kBreakOn = 5, kBreakOff = 6,
    kDtrQuery = 7, kDtrOn = 8, kDtrOff = 9,
    kRtsQuery = 10, kRtsOn = 11, kRtsOff = 12,
    kInQuery = 13, kInNone = 14, kInXon = 15, kInHw = 16,
    kFlowDcd = 17, kInDtr = 18, kFlowDsr = 19,
};

int opt_index(uint8_t opt)
{
    switch (opt) {
    case kBinary: return 0;
    case kSga: return 1;
    case kComPort: return 2;
    default: return -1;
    }
}

std::string verb_bytes(uint8_t verb, uint8_t opt)
{
    return std::string{static_cast<char>(kIac), static_cast<char>(verb), static_cast<char>(opt)};
}

uint8_t parity_code(Parity p)
{
    switch (p) {
    case Parity::None: return 1;
    case Parity::Odd: return 2;
    case Parity::Even: return 3;
    case Parity::Mark: return 4;
    case Parity::Space: return 5;
    }
    return 1;
}

bool parity_of(uint8_t code, Parity& p)
{
    static constexpr Parity kByCode[] = {Parity::None, Parity::Odd, Parity::Even, Parity::Mark, Parity::Space};
    if (code < 1 || code > 5)
        return false;
    p = kByCode[code - 1];
    return true;
}

uint8_t flow_code(FlowControl f, bool inbound)
{
    uint8_t c = f == FlowControl::XonXoff ? kFlowXon : f == FlowControl::RtsCts ? kFlowHw : kFlowNone;
    return inbound ? static_cast<uint8_t>(c + (kInNone - kFlowNone)) : c;
}

// The deltas RFC 2217 wants next to the lines: CTS, DSR and CD changed, RI's
// trailing edge.
uint8_t modem_deltas(uint8_t before, uint8_t now)
{
    uint8_t d = static_cast<uint8_t>(((before ^ now) >> 4) & 0x0B);
    if ((before & 0x40) && !(now & 0x40))
        d |= 0x04;
    return d;
}

// Printable for a log line: a client's SIGNATURE text is not trusted.
std::string printable(std::string_view s)
{
    std::string r;
    for (char c : s)
        r += (c >= 0x20 && c < 0x7f) ? c : '?';
    return r;
}

}  // namespace

std::string iac_escape(std::string_view data)
{
    std::string r;
    r.reserve(data.size() + 8);
    for (char c : data) {
        r += c;
        if (static_cast<uint8_t>(c) == kIac)
            r += c;
    }
    return r;
}

Rfc2217Session::Rfc2217Session(ComPort& port, std::string name, std::string signature, size_t max_held)
    : port_(port), name_(std::move(name)), signature_(std::move(signature)), max_held_(max_held)
{
}

std::string Rfc2217Session::greeting()
{
    us_[kBinaryIdx] = us_[kSgaIdx] = Opt::WantYes;
    them_[kBinaryIdx] = them_[kSgaIdx] = them_[kComPortIdx] = Opt::WantYes;
    return verb_bytes(kWill, kBinary) + verb_bytes(kDo, kBinary) + verb_bytes(kWill, kSga) + verb_bytes(kDo, kSga) +
           verb_bytes(kDo, kComPort);
}

void Rfc2217Session::input(std::string_view in, Out& out)
{
    for (size_t i = 0; i < in.size(); i++) {
        uint8_t b = static_cast<uint8_t>(in[i]);
        switch (st_) {
        case State::Data: {
            if (b != kIac) {
                // The common case: a run of plain data goes over in one piece.
                size_t end = in.find(static_cast<char>(kIac), i);
                if (end == std::string_view::npos)
                    end = in.size();
                out.device.append(in.substr(i, end - i));
                i = end - 1;
            } else {
                st_ = State::Iac;
            }
            break;
        }
        case State::Iac:
            st_ = State::Data;
            if (b == kIac) {
                out.device += static_cast<char>(kIac);
            } else if (b == kSb) {
                sb_.clear();
                sb_overflow_ = false;
                st_ = State::Sb;
            } else if (b >= kWill && b <= kDont) {
                verb_ = b;
                st_ = State::Verb;
            } else if (b != kNop) {
                // IAC BRK, AYT, IP, a stray SE, ...: nothing RFC 2217 asks of us.
                LOG_DBG("%s: telnet command %u ignored", name_.c_str(), b);
            }
            break;
        case State::Verb:
            negotiate(verb_, b, out);
            st_ = State::Data;
            break;
        case State::Sb:
            if (b == kIac) {
                st_ = State::SbIac;
            } else if (sb_.size() < kMaxSubneg) {
                sb_ += static_cast<char>(b);
            } else {
                sb_overflow_ = true;
            }
            break;
        case State::SbIac:
            if (b == kIac) {
                if (sb_.size() < kMaxSubneg)
                    sb_ += static_cast<char>(b);
                else
                    sb_overflow_ = true;
                st_ = State::Sb;
            } else if (b == kSe) {
                subneg_done(out);
                st_ = State::Data;
            } else {
                // IAC <command> inside SB: the subnegotiation is broken; drop it
                // and read the command as if it stood alone.
                discarded_subnegs_++;
                LOG_DBG("%s: subnegotiation cut by telnet command %u: discarded", name_.c_str(), b);
                st_ = State::Iac;
                i--;
            }
            break;
        }
    }
}

// RFC 1143 without WantNo (we never switch an option off first): an answer
// goes out only when our state changes, so two sides cannot loop.
void Rfc2217Session::negotiate(uint8_t verb, uint8_t opt, Out& out)
{
    bool was_enabled = com_port_enabled();
    int idx = opt_index(opt);
    bool theirs = verb == kWill || verb == kWont;
    bool yes = verb == kWill || verb == kDo;
    uint8_t agree = theirs ? kDo : kWill, refuse = theirs ? kDont : kWont;
    if (idx < 0) {
        if (yes)
            out.reply += verb_bytes(refuse, opt);
        LOG_DBG("%s: telnet option %u %s", name_.c_str(), opt, yes ? "refused" : "already off");
        return;
    }
    Opt& o = theirs ? them_[idx] : us_[idx];
    if (yes) {
        if (o == Opt::No)
            out.reply += verb_bytes(agree, opt);
        o = Opt::Yes;
    } else {
        if (o == Opt::Yes)
            out.reply += verb_bytes(refuse, opt);
        o = Opt::No;
    }
    if (!was_enabled && com_port_enabled()) {
        // Tell the client where the modem lines are now (pyserial waits for it).
        last_modem_ = port_.modem_lines() & kModemLines;
        last_line_ = port_.line_state();
        out.reply += modem_notify(last_modem_ & modem_mask_);
        LOG_DBG("%s: COM-PORT-OPTION on", name_.c_str());
    }
}

void Rfc2217Session::subneg_done(Out& out)
{
    if (sb_overflow_) {
        discarded_subnegs_++;
        if (discarded_subnegs_ == 1)
            LOG_NOTICE("%s: subnegotiation longer than %zu bytes discarded", name_.c_str(), kMaxSubneg);
        else
            LOG_DBG("%s: subnegotiation longer than %zu bytes discarded (%llu so far)", name_.c_str(), kMaxSubneg,
                    static_cast<unsigned long long>(discarded_subnegs_));
        return;
    }
    if (sb_.size() < 2 || static_cast<uint8_t>(sb_[0]) != kComPort) {
        LOG_DBG("%s: subnegotiation for option %u ignored", name_.c_str(),
                sb_.empty() ? 0u : static_cast<uint8_t>(sb_[0]));
        return;
    }
    if (!com_port_enabled()) {
        LOG_DBG("%s: COM-PORT-OPTION command before the option was negotiated: ignored", name_.c_str());
        return;
    }
    if (!out.device.empty()) {
        port_.write(out.device);
        out.device.clear();
    }
    command(static_cast<uint8_t>(sb_[1]), std::string_view(sb_).substr(2), out);
}

void Rfc2217Session::command(uint8_t cmd, std::string_view value, Out& out)
{
    auto byte = [&](uint8_t& v) {
        if (value.empty()) {
            LOG_DBG("%s: COM-PORT-OPTION command %u without its value: ignored", name_.c_str(), cmd);
            return false;
        }
        v = static_cast<uint8_t>(value[0]);
        return true;
    };
    LineSettings s;
    uint8_t v = 0;
    switch (static_cast<ComCmd>(cmd)) {
    case ComCmd::Signature:
        if (value.empty())
            reply(cmd, signature_, out);
        else
            LOG_INFO("%s: client signature \"%s\"", name_.c_str(), printable(value).c_str());
        return;
    case ComCmd::SetBaudrate: {
        if (value.size() < 4) {
            LOG_DBG("%s: SET-BAUDRATE with %zu value bytes: ignored", name_.c_str(), value.size());
            return;
        }
        uint32_t baud = 0;
        for (int k = 0; k < 4; k++)
            baud = (baud << 8) | static_cast<uint8_t>(value[k]);
        if (baud != 0 && port_.line(s))
            change(s, s.baud, baud);
        reply_line(cmd, out);
        return;
    }
    case ComCmd::SetDatasize:
        if (!byte(v))
            return;
        if (v != 0 && port_.line(s)) {
            if (v >= 5 && v <= 8) {
                change(s, s.databits, static_cast<int>(v));
            } else {
                LOG_DBG("%s: SET-DATASIZE %u: not a data size", name_.c_str(), v);
            }
        }
        reply_line(cmd, out);
        return;
    case ComCmd::SetParity:
        if (!byte(v))
            return;
        if (v != 0 && port_.line(s)) {
            Parity p;
            if (parity_of(v, p)) {
                change(s, s.parity, p);
            } else {
                LOG_DBG("%s: SET-PARITY %u: not a parity", name_.c_str(), v);
            }
        }
        reply_line(cmd, out);
        return;
    case ComCmd::SetStopsize:
        if (!byte(v))
            return;
        if (v != 0 && port_.line(s)) {
            if (v == 1 || v == 2) {
                change(s, s.stopbits, static_cast<int>(v));
            } else {
                LOG_DBG("%s: SET-STOPSIZE %u: only 1 and 2 stop bits can be set", name_.c_str(), v);
            }
        }
        reply_line(cmd, out);
        return;
    case ComCmd::SetControl:
        if (byte(v))
            set_control(v, out);
        return;
    case ComCmd::NotifyLinestate:
        // A poll: the current state whatever the mask (the mask is for changes).
        reply(cmd, port_.line_state(), out);
        return;
    case ComCmd::NotifyModemstate: {
        uint8_t now = port_.modem_lines() & kModemLines;
        out.reply += modem_notify(static_cast<uint8_t>(now | modem_deltas(last_modem_, now)));
        last_modem_ = now;
        return;
    }
    case ComCmd::FlowSuspend:
        suspended_ = true;
        return;
    case ComCmd::FlowResume:
        resume(out);
        return;
    case ComCmd::SetLinestateMask:
        if (byte(v)) {
            line_mask_ = v;
            reply(cmd, v, out);
        }
        return;
    case ComCmd::SetModemstateMask:
        if (byte(v)) {
            modem_mask_ = v;
            reply(cmd, v, out);
        }
        return;
    case ComCmd::PurgeData:
        if (!byte(v))
            return;
        if (v < 1 || v > 3) {
            LOG_DBG("%s: PURGE-DATA %u: not a buffer", name_.c_str(), v);
            return;
        }
        port_.purge(v);
        if (v & 1)
            held_.clear();   // device bytes not yet sent to this client are part of "receive"
        reply(cmd, v, out);
        return;
    }
    LOG_DBG("%s: COM-PORT-OPTION command %u unknown: ignored", name_.c_str(), cmd);
}

void Rfc2217Session::set_control(uint8_t v, Out& out)
{
    LineSettings s;
    auto set_flow = [&](FlowControl f) { change(s, s.flow, f); };
    auto signal = [&](ComPort::Signal sig, bool set, bool on, uint8_t on_code, uint8_t off_code) {
        reply(static_cast<uint8_t>(ComCmd::SetControl), port_.signal(sig, set, on) ? on_code : off_code, out);
    };
    switch (v) {
    case kBreakQuery: signal(ComPort::Signal::Break, false, false, kBreakOn, kBreakOff); return;
    case kBreakOn:
    case kBreakOff: signal(ComPort::Signal::Break, true, v == kBreakOn, kBreakOn, kBreakOff); return;
    case kDtrQuery: signal(ComPort::Signal::Dtr, false, false, kDtrOn, kDtrOff); return;
    case kDtrOn:
    case kDtrOff: signal(ComPort::Signal::Dtr, true, v == kDtrOn, kDtrOn, kDtrOff); return;
    case kRtsQuery: signal(ComPort::Signal::Rts, false, false, kRtsOn, kRtsOff); return;
    case kRtsOn:
    case kRtsOff: signal(ComPort::Signal::Rts, true, v == kRtsOn, kRtsOn, kRtsOff); return;
    default: break;
    }
    if (v > kFlowDsr) {
        LOG_DBG("%s: SET-CONTROL %u unknown: ignored", name_.c_str(), v);
        return;
    }
    if (!port_.line(s)) {
        LOG_DBG("%s: SET-CONTROL %u: the device is not open", name_.c_str(), v);
        return;
    }
    // termios has one flow setting for both directions: an inbound request
    // sets it too, and is answered in inbound codes.
    bool inbound = v >= kInQuery && v != kFlowDcd && v != kFlowDsr;
    switch (v) {
    case kFlowNone: case kInNone: set_flow(FlowControl::None); break;
    case kFlowXon: case kInXon: set_flow(FlowControl::XonXoff); break;
    case kFlowHw: case kInHw: set_flow(FlowControl::RtsCts); break;
    case kFlowDcd: case kInDtr: case kFlowDsr:
        LOG_DBG("%s: SET-CONTROL %u: DCD/DTR/DSR flow control is not available", name_.c_str(), v);
        break;
    default: break;   // the queries
    }
    port_.line(s);
    reply(static_cast<uint8_t>(ComCmd::SetControl), flow_code(s.flow, inbound), out);
}

void Rfc2217Session::reply(uint8_t cmd, std::string_view value, Out& out)
{
    out.reply += static_cast<char>(kIac);
    out.reply += static_cast<char>(kSb);
    out.reply += static_cast<char>(kComPort);
    out.reply += static_cast<char>(cmd + kServerReply);
    out.reply += iac_escape(value);
    out.reply += static_cast<char>(kIac);
    out.reply += static_cast<char>(kSe);
}

void Rfc2217Session::reply(uint8_t cmd, uint8_t value, Out& out)
{
    char c = static_cast<char>(value);
    reply(cmd, std::string_view(&c, 1), out);
}

// The answer to a SET-BAUDRATE/-DATASIZE/-PARITY/-STOPSIZE is the setting
// the device has now: what was asked when it took it, the old one otherwise.
void Rfc2217Session::reply_line(uint8_t cmd, Out& out)
{
    LineSettings s;
    if (!port_.line(s)) {
        LOG_DBG("%s: COM-PORT-OPTION command %u: the device is not open; no answer", name_.c_str(), cmd);
        return;
    }
    switch (static_cast<ComCmd>(cmd)) {
    case ComCmd::SetBaudrate: {
        char b[4] = {static_cast<char>(s.baud >> 24), static_cast<char>(s.baud >> 16), static_cast<char>(s.baud >> 8),
                     static_cast<char>(s.baud)};
        reply(cmd, std::string_view(b, 4), out);
        return;
    }
    case ComCmd::SetDatasize: reply(cmd, static_cast<uint8_t>(s.databits), out); return;
    case ComCmd::SetParity: reply(cmd, parity_code(s.parity), out); return;
    case ComCmd::SetStopsize: reply(cmd, static_cast<uint8_t>(s.stopbits), out); return;
    default: return;
    }
}

void Rfc2217Session::resume(Out& out)
{
    suspended_ = false;
    out.reply += held_;
    held_.clear();
}

std::string Rfc2217Session::modem_notify(uint8_t value)
{
    Out o;
    reply(static_cast<uint8_t>(ComCmd::NotifyModemstate), value, o);
    return o.reply;
}

bool Rfc2217Session::to_client(std::string_view data, std::string& out)
{
    if (!suspended_) {
        out += iac_escape(data);
        return true;
    }
    std::string e = iac_escape(data);
    if (held_.size() + e.size() > max_held_)
        return false;
    held_ += e;
    return true;
}

std::string Rfc2217Session::poll(uint8_t modem, uint8_t line)
{
    Out o;
    modem &= kModemLines;
    if (com_port_enabled()) {
        uint8_t delta = modem_deltas(last_modem_, modem);
        if (((modem ^ last_modem_) | delta) & modem_mask_)
            o.reply += modem_notify(static_cast<uint8_t>((modem | delta) & modem_mask_));
        if ((line ^ last_line_) & line_mask_)
            reply(static_cast<uint8_t>(ComCmd::NotifyLinestate), static_cast<uint8_t>(line & line_mask_), o);
    }
    last_modem_ = modem;
    last_line_ = line;
    return std::move(o.reply);
}

}  // namespace ser::serial

// RFC 2217 sessions (serial/rfc2217.cpp) against a fake device: the telnet
// negotiation (accepted options, refused ones, no answer loops), every
// COM-PORT-OPTION command with its +100 answer, value 0 as a query, answers
// that carry what the device took rather than what was asked, modem and line
// state notifications under their masks, flow suspend/resume, IAC escaping
// both ways, sequences cut anywhere across reads, and a hostile over-long
// subnegotiation that is discarded without growing the buffer.
#include "serial/rfc2217.h"

#include <cppunit/extensions/HelperMacros.h>

#include <string>
#include <vector>

namespace ser::serial {

class Rfc2217Peer {
public:
    static size_t sb_size(const Rfc2217Session& s) { return s.sb_.size(); }
};

namespace {

using namespace telnet;

// A device that takes what a real UART would, and records what was done to it.
class FakePort final : public ComPort {
public:
    LineSettings ls{9600, 8, Parity::None, 1, FlowControl::None, true};
    bool open = true;
    bool dtr = true, rts = true, brk = false;
    bool has_lines = true;   // false: a pty (requests not applied)
    uint8_t modem = 0, line_bits = 0;
    std::vector<std::string> log;   // "set", "purge N", "write DATA", in order

    bool line(LineSettings& out) override
    {
        out = ls;
        return open;
    }
    void set_line(const LineSettings& want) override
    {
        log.push_back("set");
        if (want.baud > 4000000)
            return;   // refused: ls stays
        ls = want;
    }
    bool signal(Signal s, bool set, bool on) override
    {
        bool& v = s == Signal::Dtr ? dtr : s == Signal::Rts ? rts : brk;
        if (set && (has_lines || s == Signal::Break))
            v = on;
        return v;
    }
    uint8_t modem_lines() override { return modem; }
    uint8_t line_state() override { return line_bits; }
    void purge(uint8_t which) override { log.push_back("purge " + std::to_string(which)); }
    void write(std::string_view data) override { log.push_back("write " + std::string(data)); }
};

std::string b(std::initializer_list<int> bytes)
{
    std::string s;
    for (int x : bytes)
        s += static_cast<char>(x);
    return s;
}

// IAC SB COM-PORT-OPTION cmd value... IAC SE, value IAC-doubled as a client sends it.
std::string sb(int cmd, std::string value)
{
    return b({kIac, kSb, kComPort, cmd}) + iac_escape(value) + b({kIac, kSe});
}
std::string sb(int cmd, std::initializer_list<int> value) { return sb(cmd, b(value)); }

}  // namespace

class Rfc2217Test : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(Rfc2217Test);
    CPPUNIT_TEST(greetingOffersOurOptions);
    CPPUNIT_TEST(answersToGreetingAreNotAnswered);
    CPPUNIT_TEST(unknownOptionsRefused);
    CPPUNIT_TEST(comPortOnSendsModemState);
    CPPUNIT_TEST(optionSwitchedOffAndOn);
    CPPUNIT_TEST(commandsBeforeNegotiationIgnored);
    CPPUNIT_TEST(baudRate);
    CPPUNIT_TEST(baudRateRefusedAnswersOld);
    CPPUNIT_TEST(baudRateWithIacInValue);
    CPPUNIT_TEST(dataSize);
    CPPUNIT_TEST(parity);
    CPPUNIT_TEST(stopSize);
    CPPUNIT_TEST(flowControl);
    CPPUNIT_TEST(signalLines);
    CPPUNIT_TEST(signalLinesWithoutModemLines);
    CPPUNIT_TEST(deviceClosedNoAnswer);
    CPPUNIT_TEST(modemStatePollAndNotify);
    CPPUNIT_TEST(modemStateMask);
    CPPUNIT_TEST(lineStateMask);
    CPPUNIT_TEST(flowSuspendResume);
    CPPUNIT_TEST(suspendedOverflow);
    CPPUNIT_TEST(purge);
    CPPUNIT_TEST(signature);
    CPPUNIT_TEST(iacEscapingBothWays);
    CPPUNIT_TEST(dataBeforeCommandGoesFirst);
    CPPUNIT_TEST(splitAnywhere);
    CPPUNIT_TEST(overlongSubnegotiationBounded);
    CPPUNIT_TEST(brokenSubnegotiation);
    CPPUNIT_TEST(otherTelnetCommandsIgnored);
    CPPUNIT_TEST_SUITE_END();

    FakePort port_;
    std::unique_ptr<Rfc2217Session> s_;

    // A session past the negotiation pyserial does, with its output cleared.
    Rfc2217Session& negotiated()
    {
        s_ = std::make_unique<Rfc2217Session>(port_, "test", "ser test", 64);
        s_->greeting();
        Rfc2217Session::Out o;
        s_->input(b({kIac, kWill, kComPort, kIac, kDo, kBinary, kIac, kWill, kBinary}), o);
        CPPUNIT_ASSERT(s_->com_port_enabled());
        return *s_;
    }
    Rfc2217Session::Out feed(const std::string& in)
    {
        Rfc2217Session::Out o;
        s_->input(in, o);
        return o;
    }

    // Feeds `in` and appends what reached the device, in order: bytes handed
    // over ahead of a command, then the rest.
    Rfc2217Session::Out feed_in_order(const std::string& in, std::string& dev)
    {
        size_t seen = port_.log.size();
        auto o = feed(in);
        for (size_t i = seen; i < port_.log.size(); i++)
            if (port_.log[i].rfind("write ", 0) == 0)
                dev += port_.log[i].substr(6);
        dev += o.device;
        return o;
    }

public:
    void setUp() override { port_ = FakePort(); }

    void greetingOffersOurOptions()
    {
        Rfc2217Session s(port_, "test", "sig", 64);
        CPPUNIT_ASSERT_EQUAL(b({kIac, kWill, kBinary, kIac, kDo, kBinary, kIac, kWill, kSga, kIac, kDo, kSga, kIac, kDo,
                                kComPort}),
                             s.greeting());
        CPPUNIT_ASSERT(!s.com_port_enabled());
    }

    void answersToGreetingAreNotAnswered()
    {
        negotiated();
        // The client agreeing to what we asked, again: silence, not a loop.
        auto o = feed(b({kIac, kWill, kComPort, kIac, kDo, kSga, kIac, kWill, kSga}));
        CPPUNIT_ASSERT_EQUAL(std::string(), o.reply);
        CPPUNIT_ASSERT_EQUAL(std::string(), o.device);
    }

    void unknownOptionsRefused()
    {
        negotiated();
        auto o = feed(b({kIac, kDo, kEcho, kIac, kWill, kEcho, kIac, kDo, 24, kIac, kDont, 24, kIac, kWont, 31}));
        // DO/WILL of what we do not have: WONT/DONT; DONT/WONT of something off: nothing.
        CPPUNIT_ASSERT_EQUAL(b({kIac, kWont, kEcho, kIac, kDont, kEcho, kIac, kWont, 24}), o.reply);
    }

    void comPortOnSendsModemState()
    {
        port_.modem = 0x90;   // CD and CTS
        Rfc2217Session s(port_, "test", "sig", 64);
        s.greeting();
        Rfc2217Session::Out o;
        s.input(b({kIac, kWill, kComPort}), o);   // answers our DO: no DO back
        CPPUNIT_ASSERT_EQUAL(b({kIac, kSb, kComPort, 107, 0x90, kIac, kSe}), o.reply);
        // pyserial also says DO COM-PORT-OPTION: we agree, once.
        Rfc2217Session::Out o2;
        s.input(b({kIac, kDo, kComPort}), o2);
        CPPUNIT_ASSERT_EQUAL(b({kIac, kWill, kComPort}), o2.reply);
    }

    void optionSwitchedOffAndOn()
    {
        negotiated();
        auto o = feed(b({kIac, kWont, kComPort}));
        CPPUNIT_ASSERT_EQUAL(b({kIac, kDont, kComPort}), o.reply);
        CPPUNIT_ASSERT(!s_->com_port_enabled());
        o = feed(b({kIac, kWill, kComPort}));
        CPPUNIT_ASSERT_EQUAL(b({kIac, kDo, kComPort, kIac, kSb, kComPort, 107, 0, kIac, kSe}), o.reply);
    }

    void commandsBeforeNegotiationIgnored()
    {
        s_ = std::make_unique<Rfc2217Session>(port_, "test", "sig", 64);
        s_->greeting();
        auto o = feed(sb(1, {0, 0, 0x4b, 0}));
        CPPUNIT_ASSERT_EQUAL(std::string(), o.reply);
        CPPUNIT_ASSERT_EQUAL(9600u, port_.ls.baud);
    }

    void baudRate()
    {
        negotiated();
        auto o = feed(sb(1, {0, 0, 0x4b, 0}));   // 19200
        CPPUNIT_ASSERT_EQUAL(19200u, port_.ls.baud);
        CPPUNIT_ASSERT_EQUAL(sb(101, {0, 0, 0x4b, 0}), o.reply);
        CPPUNIT_ASSERT(s_->changed_line());
        port_.log.clear();
        o = feed(sb(1, {0, 0, 0, 0}));           // query
        CPPUNIT_ASSERT_EQUAL(sb(101, {0, 0, 0x4b, 0}), o.reply);
        CPPUNIT_ASSERT(port_.log.empty());
        o = feed(sb(1, {0, 0, 0x4b}));           // short: ignored
        CPPUNIT_ASSERT_EQUAL(std::string(), o.reply);
    }

    void baudRateRefusedAnswersOld()
    {
        negotiated();
        auto o = feed(sb(1, {0, 0x98, 0x96, 0x80}));   // 10000000: the fake refuses
        CPPUNIT_ASSERT_EQUAL(9600u, port_.ls.baud);
        CPPUNIT_ASSERT_EQUAL(sb(101, {0, 0, 0x25, 0x80}), o.reply);
    }

    void baudRateWithIacInValue()
    {
        negotiated();
        auto o = feed(sb(1, {0, 0, 0xff, 0xff}));   // 65535: two IACs doubled on the wire
        CPPUNIT_ASSERT_EQUAL(65535u, port_.ls.baud);
        CPPUNIT_ASSERT_EQUAL(b({kIac, kSb, kComPort, 101, 0, 0, 0xff, 0xff, 0xff, 0xff, kIac, kSe}), o.reply);
    }

    void dataSize()
    {
        negotiated();
        CPPUNIT_ASSERT_EQUAL(sb(102, {7}), feed(sb(2, {7})).reply);
        CPPUNIT_ASSERT_EQUAL(7, port_.ls.databits);
        CPPUNIT_ASSERT_EQUAL(sb(102, {7}), feed(sb(2, {0})).reply);
        CPPUNIT_ASSERT_EQUAL(sb(102, {7}), feed(sb(2, {9})).reply);   // not a size: the current one
        CPPUNIT_ASSERT_EQUAL(std::string(), feed(sb(2, "")).reply);
    }

    void parity()
    {
        negotiated();
        const Parity want[] = {Parity::None, Parity::Odd, Parity::Even, Parity::Mark, Parity::Space};
        for (int code = 1; code <= 5; code++) {
            CPPUNIT_ASSERT_EQUAL(sb(103, {code}), feed(sb(3, {code})).reply);
            CPPUNIT_ASSERT(port_.ls.parity == want[code - 1]);
        }
        port_.log.clear();
        CPPUNIT_ASSERT_EQUAL(sb(103, {5}), feed(sb(3, {0})).reply);
        CPPUNIT_ASSERT_EQUAL(sb(103, {5}), feed(sb(3, {6})).reply);
        CPPUNIT_ASSERT(port_.ls.parity == Parity::Space);
        // What the device already has is not written again (pyserial sends
        // all four settings at every change).
        CPPUNIT_ASSERT_EQUAL(sb(103, {5}), feed(sb(3, {5})).reply);
        CPPUNIT_ASSERT_EQUAL(sb(102, {8}), feed(sb(2, {8})).reply);
        CPPUNIT_ASSERT(port_.log.empty());
    }

    void stopSize()
    {
        negotiated();
        CPPUNIT_ASSERT_EQUAL(sb(104, {2}), feed(sb(4, {2})).reply);
        CPPUNIT_ASSERT_EQUAL(2, port_.ls.stopbits);
        CPPUNIT_ASSERT_EQUAL(sb(104, {2}), feed(sb(4, {3})).reply);   // 1.5: not settable, stays 2
        CPPUNIT_ASSERT_EQUAL(sb(104, {1}), feed(sb(4, {1})).reply);
        CPPUNIT_ASSERT_EQUAL(sb(104, {1}), feed(sb(4, {0})).reply);
    }

    void flowControl()
    {
        negotiated();
        CPPUNIT_ASSERT_EQUAL(sb(105, {1}), feed(sb(5, {0})).reply);
        CPPUNIT_ASSERT_EQUAL(sb(105, {3}), feed(sb(5, {3})).reply);
        CPPUNIT_ASSERT(port_.ls.flow == FlowControl::RtsCts);
        CPPUNIT_ASSERT_EQUAL(sb(105, {16}), feed(sb(5, {13})).reply);   // inbound query, inbound code
        CPPUNIT_ASSERT_EQUAL(sb(105, {15}), feed(sb(5, {15})).reply);
        CPPUNIT_ASSERT(port_.ls.flow == FlowControl::XonXoff);
        CPPUNIT_ASSERT_EQUAL(sb(105, {2}), feed(sb(5, {17})).reply);    // DCD flow: not there, current
        CPPUNIT_ASSERT_EQUAL(sb(105, {15}), feed(sb(5, {18})).reply);   // DTR flow (inbound): current
        CPPUNIT_ASSERT_EQUAL(sb(105, {1}), feed(sb(5, {1})).reply);
        CPPUNIT_ASSERT(port_.ls.flow == FlowControl::None);
        CPPUNIT_ASSERT_EQUAL(std::string(), feed(sb(5, {20})).reply);
    }

    void signalLines()
    {
        negotiated();
        CPPUNIT_ASSERT_EQUAL(sb(105, {8}), feed(sb(5, {7})).reply);
        CPPUNIT_ASSERT_EQUAL(sb(105, {9}), feed(sb(5, {9})).reply);
        CPPUNIT_ASSERT(!port_.dtr);
        CPPUNIT_ASSERT_EQUAL(sb(105, {12}), feed(sb(5, {12})).reply);
        CPPUNIT_ASSERT_EQUAL(sb(105, {12}), feed(sb(5, {10})).reply);
        CPPUNIT_ASSERT(!port_.rts);
        CPPUNIT_ASSERT_EQUAL(sb(105, {11}), feed(sb(5, {11})).reply);
        CPPUNIT_ASSERT_EQUAL(sb(105, {6}), feed(sb(5, {4})).reply);
        CPPUNIT_ASSERT_EQUAL(sb(105, {5}), feed(sb(5, {5})).reply);
        CPPUNIT_ASSERT(port_.brk);
        CPPUNIT_ASSERT_EQUAL(sb(105, {6}), feed(sb(5, {6})).reply);
    }

    void signalLinesWithoutModemLines()
    {
        negotiated();
        port_.has_lines = false;
        // The answer is what the port says, not what was asked.
        CPPUNIT_ASSERT_EQUAL(sb(105, {8}), feed(sb(5, {9})).reply);
    }

    void deviceClosedNoAnswer()
    {
        negotiated();
        port_.open = false;
        CPPUNIT_ASSERT_EQUAL(std::string(), feed(sb(1, {0, 0, 0x4b, 0})).reply);
        CPPUNIT_ASSERT_EQUAL(std::string(), feed(sb(3, {2})).reply);
        CPPUNIT_ASSERT_EQUAL(std::string(), feed(sb(5, {3})).reply);
        CPPUNIT_ASSERT(port_.log.empty());
    }

    void modemStatePollAndNotify()
    {
        negotiated();
        CPPUNIT_ASSERT_EQUAL(std::string(), s_->poll(0, 0));   // nothing changed
        port_.modem = 0x30;   // DSR, CTS up
        CPPUNIT_ASSERT_EQUAL(sb(107, {0x33}), feed(sb(7, "")).reply);   // a poll: lines and deltas
        CPPUNIT_ASSERT_EQUAL(std::string(), s_->poll(0x30, 0));
        CPPUNIT_ASSERT_EQUAL(sb(107, {0x20 | 0x01}), s_->poll(0x20, 0));     // CTS dropped
        CPPUNIT_ASSERT_EQUAL(sb(107, {0xe0 | 0x08}), s_->poll(0xe0, 0));     // CD and RI rose
        CPPUNIT_ASSERT_EQUAL(sb(107, {0xa0 | 0x04}), s_->poll(0xa0, 0));     // RI trailing edge
        CPPUNIT_ASSERT_EQUAL(std::string(), s_->poll(0xa0, 0));
    }

    void modemStateMask()
    {
        negotiated();
        CPPUNIT_ASSERT_EQUAL(sb(111, {0x11}), feed(sb(11, {0x11})).reply);
        CPPUNIT_ASSERT_EQUAL(std::string(), s_->poll(0x80, 0));     // CD: not in the mask
        CPPUNIT_ASSERT_EQUAL(sb(107, {0x11}), s_->poll(0x90, 0));   // CTS is, masked value
        feed(sb(11, {0}));
        CPPUNIT_ASSERT_EQUAL(std::string(), s_->poll(0x00, 0));
    }

    void lineStateMask()
    {
        negotiated();
        CPPUNIT_ASSERT_EQUAL(std::string(), s_->poll(0, 0x60));   // default mask 0
        port_.line_bits = 0x60;
        CPPUNIT_ASSERT_EQUAL(sb(106, {0x60}), feed(sb(6, "")).reply);   // a poll ignores the mask
        CPPUNIT_ASSERT_EQUAL(sb(110, {0x40}), feed(sb(10, {0x40})).reply);
        CPPUNIT_ASSERT_EQUAL(sb(106, {0x00}), s_->poll(0, 0x00));
        CPPUNIT_ASSERT_EQUAL(std::string(), s_->poll(0, 0x20));           // not in the mask
        CPPUNIT_ASSERT_EQUAL(sb(106, {0x40}), s_->poll(0, 0x60));
    }

    void flowSuspendResume()
    {
        negotiated();
        CPPUNIT_ASSERT_EQUAL(std::string(), feed(sb(8, "")).reply);
        CPPUNIT_ASSERT(s_->suspended());
        std::string out;
        CPPUNIT_ASSERT(s_->to_client("ab\xff", out));
        CPPUNIT_ASSERT_EQUAL(std::string(), out);
        auto o = feed(sb(9, ""));
        CPPUNIT_ASSERT_EQUAL(std::string("ab\xff\xff"), o.reply);
        CPPUNIT_ASSERT(!s_->suspended());
        CPPUNIT_ASSERT(s_->to_client("c", out));
        CPPUNIT_ASSERT_EQUAL(std::string("c"), out);
    }

    void suspendedOverflow()
    {
        negotiated();   // max_held 64
        feed(sb(8, ""));
        std::string out;
        CPPUNIT_ASSERT(s_->to_client(std::string(60, 'x'), out));
        CPPUNIT_ASSERT(!s_->to_client(std::string(5, 'y'), out));
    }

    void purge()
    {
        negotiated();
        feed(sb(8, ""));
        std::string out;
        s_->to_client("held", out);
        CPPUNIT_ASSERT_EQUAL(sb(112, {1}), feed(sb(12, {1})).reply);
        CPPUNIT_ASSERT_EQUAL(sb(112, {2}), feed(sb(12, {2})).reply);
        CPPUNIT_ASSERT_EQUAL(sb(112, {3}), feed(sb(12, {3})).reply);
        CPPUNIT_ASSERT_EQUAL(std::string(), feed(sb(12, {4})).reply);
        CPPUNIT_ASSERT((std::vector<std::string>{"purge 1", "purge 2", "purge 3"}) == port_.log);
        CPPUNIT_ASSERT_EQUAL(std::string(), feed(sb(9, "")).reply);   // the held bytes went with purge 1
    }

    void signature()
    {
        negotiated();
        CPPUNIT_ASSERT_EQUAL(sb(100, "ser test"), feed(sb(0, "")).reply);
        CPPUNIT_ASSERT_EQUAL(std::string(), feed(sb(0, "pyserial\x01")).reply);
    }

    void iacEscapingBothWays()
    {
        negotiated();
        auto o = feed(b({'a', kIac, kIac, 'b', kIac, kIac, kIac, kIac}));
        CPPUNIT_ASSERT_EQUAL(b({'a', 0xff, 'b', 0xff, 0xff}), o.device);
        std::string out;
        CPPUNIT_ASSERT(s_->to_client(b({0xff, 0, 0xff}), out));
        CPPUNIT_ASSERT_EQUAL(b({0xff, 0xff, 0, 0xff, 0xff}), out);
        CPPUNIT_ASSERT_EQUAL(b({'x', 0xff, 0xff, 0xff, 0xff, 'y'}), iac_escape(b({'x', 0xff, 0xff, 'y'})));
    }

    void dataBeforeCommandGoesFirst()
    {
        negotiated();
        auto o = feed("before" + sb(1, {0, 0, 0x4b, 0}) + "after");
        CPPUNIT_ASSERT((std::vector<std::string>{"write before", "set"}) == port_.log);
        CPPUNIT_ASSERT_EQUAL(std::string("after"), o.device);
    }

    void splitAnywhere()
    {
        std::string in = "x" + b({kIac, kIac}) + sb(1, {0, 0, 0xff, 0xff}) + b({kIac, kDo, kEcho}) + sb(3, {3}) +
                         "y" + b({kIac, kIac});
        negotiated();
        auto whole = feed(in);
        for (size_t cut = 1; cut < in.size(); cut++) {
            port_ = FakePort();
            negotiated();
            std::string dev;
            auto a = feed_in_order(in.substr(0, cut), dev);
            auto c = feed_in_order(in.substr(cut), dev);
            CPPUNIT_ASSERT_EQUAL_MESSAGE("cut at " + std::to_string(cut), whole.reply, a.reply + c.reply);
            CPPUNIT_ASSERT_EQUAL_MESSAGE("cut at " + std::to_string(cut), b({'x', 0xff, 'y', 0xff}), dev);
            CPPUNIT_ASSERT_EQUAL(65535u, port_.ls.baud);
            CPPUNIT_ASSERT(port_.ls.parity == Parity::Even);
        }
        // And one byte at a time.
        port_ = FakePort();
        negotiated();
        std::string reply;
        for (char ch : in)
            reply += feed(std::string(1, ch)).reply;
        CPPUNIT_ASSERT_EQUAL(whole.reply, reply);
    }

    void overlongSubnegotiationBounded()
    {
        negotiated();
        std::string in = b({kIac, kSb, kComPort, 1});
        std::string junk(100000, 'A');
        size_t max_seen = 0;
        Rfc2217Session::Out o;
        s_->input(in, o);
        for (size_t i = 0; i < junk.size(); i += 4096) {
            s_->input(std::string_view(junk).substr(i, 4096), o);
            max_seen = std::max(max_seen, Rfc2217Peer::sb_size(*s_));
        }
        s_->input(b({kIac, kSe}), o);
        CPPUNIT_ASSERT(max_seen <= Rfc2217Session::kMaxSubneg);
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), s_->discarded_subnegs());
        CPPUNIT_ASSERT_EQUAL(std::string(), o.reply);
        CPPUNIT_ASSERT_EQUAL(std::string(), o.device);   // none of it leaked to the device
        CPPUNIT_ASSERT_EQUAL(9600u, port_.ls.baud);
        // The session goes on.
        CPPUNIT_ASSERT_EQUAL(sb(101, {0, 0, 0x4b, 0}), feed(sb(1, {0, 0, 0x4b, 0})).reply);
    }

    void brokenSubnegotiation()
    {
        negotiated();
        auto o = feed(b({kIac, kSb, kComPort, 1, 0, kIac, kDo, kEcho, 'z'}));
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), s_->discarded_subnegs());
        CPPUNIT_ASSERT_EQUAL(b({kIac, kWont, kEcho}), o.reply);
        CPPUNIT_ASSERT_EQUAL(std::string("z"), o.device);
    }

    void otherTelnetCommandsIgnored()
    {
        negotiated();
        auto o = feed(b({'a', kIac, kNop, 'b', kIac, kBreak, kIac, kSe, 'c', kIac, 246}));
        CPPUNIT_ASSERT_EQUAL(std::string("abc"), o.device);
        CPPUNIT_ASSERT_EQUAL(std::string(), o.reply);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(Rfc2217Test);

}  // namespace ser::serial

#pragma once
// What the route language offers: every action and every condition operand,
// with its arguments. cfg_routes.cpp checks scripts against these tables and
// the route engine compiles them; both read the same rows.

#include <string_view>

namespace ser::cfg {

// What one argument of an action must be.
enum class Arg : unsigned char {
    None,
    Host,     // IP, [IPv6], host name, "string", uri:host
    Port,     // number 1..65535 or uri:port
    Code,     // SIP status code 100..699 (number or "string")
    Text,     // any string
    Regex,    // POSIX extended regular expression, case-insensitive
    Header,   // header name
    Flag,     // 0..31
    Route,    // a route block that must exist
    Int,      // any number
    LogArg,   // log(): the level (a number) when two arguments are given, else the text
};

struct ActionSpec {
    std::string_view name;
    int min_args;
    int max_args;
    Arg args[2];
};

// The row for `name`, or nullptr.
const ActionSpec* find_action(std::string_view name);
// Every action name (for "did you mean").
const ActionSpec* action_begin();
const ActionSpec* action_end();

// Left-hand sides of comparisons in if (...).
enum class Operand : unsigned char { Method, Uri, SrcIp, DstIp, SrcPort, DstPort, Proto, Af, MsgLen,
                                     TlsVersion, TlsCipher, TlsPeerCn, TlsVerified, FromDomain, RuriDomain };
struct OperandSpec {
    std::string_view name;
    Operand op;
    bool numeric;     // < > <= >= allowed, rhs must be a number
    bool address;     // rhs may be an IP, a network or myself
};
const OperandSpec* find_operand(std::string_view name);

}  // namespace ser::cfg

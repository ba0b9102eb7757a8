#pragma once
// The abstract syntax tree of a ser.cfg file, as built by cfg.y. It holds what
// was written and where, nothing else: meaning is given by cfg_check.cpp.

#include <memory>
#include <string>
#include <vector>

namespace ser::cfg {

// A position in a config file, printed as "file:line:col" (line 0: just
// "file", for places that are not in a file, such as a command-line option).
struct Loc {
    std::string file;
    int line = 0;
    int col = 0;
    std::string str() const;
};

// A literal value: a number, a quoted string, a bare word (host names and
// keywords such as yes/no/myself), an IPv4 or bracketed IPv6 address, an
// address with a prefix length (ip/len), or parts joined by ':' (udp:1.2.3.4:5060).
struct Value {
    enum class Kind { Int, Str, Ident, Ip4, Ip6, Net, Colon };
    Kind kind = Kind::Int;
    std::string text;          // source spelling (strings unquoted and unescaped)
    long long num = 0;         // Int: value; Net: prefix length
    std::vector<Value> parts;  // Colon: the parts; Net: the address
    Loc loc;
};

struct Expr;
using ExprPtr = std::shared_ptr<const Expr>;

// A condition of an if: logic, a comparison "lhs op rhs" or a call used as a test.
struct Expr {
    enum class Kind { And, Or, Not, Cmp, Call, Name };
    Kind kind = Kind::Name;
    std::string name;          // Cmp: lhs (method, uri, msg:len...); Call/Name: function or bare name
    std::string op;            // Cmp: == != =~ < > <= >=
    Value rhs;                 // Cmp
    std::vector<Value> args;   // Call
    ExprPtr a, b;              // And/Or: both; Not: a
    Loc loc;
};

struct Action;
using ActionList = std::vector<Action>;

// One statement of a route block: a call (forward(...), drop, break...) or an if.
struct Action {
    enum class Kind { Call, If };
    Kind kind = Kind::Call;
    std::string name;
    std::vector<Value> args;
    bool has_parens = false;
    ExprPtr cond;
    std::shared_ptr<const ActionList> then_body, else_body;
    Loc loc;
};

// name = value, at top level or inside a tls_domain / serial block.
struct Assign {
    std::string name;
    Value value;
    Loc loc;
    std::vector<Value> words;   // bare words written after the value (listen=... proxy_protocol)
};

// A top-level statement of the file, in source order.
struct Stmt {
    enum class Kind { Assign, LoadModule, Include, Route, TlsDomain, TlsClientDomain, Serial, Call, Word };
    Kind kind = Kind::Assign;
    Assign assign;                  // Assign
    std::string text;               // LoadModule/Include: path; Route: block name ("" = main); Serial: device
    Value key;                      // TlsDomain/TlsClientDomain: address; Route: index
    bool has_key = false;
    std::vector<Assign> params;     // TlsDomain/TlsClientDomain/Serial
    ActionList body;                // Route
    std::vector<Value> args;        // Call: modparam("module", "name", value)
    Loc loc;
};

struct File {
    std::vector<Stmt> stmts;
};

}  // namespace ser::cfg

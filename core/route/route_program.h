#pragma once
// The compiled form of route blocks, private to the route engine
// (route_engine.cpp runs it, route_cond.cpp tests conditions,
// route_actions.cpp edits the message).

#include "route/route_engine.h"
#include "cfg/route_spec.h"

#include <regex.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ser {

// A compiled POSIX extended, case-insensitive regular expression.
class Regex {
public:
    // Compiles pattern; nullptr (and a log line) if it does not compile.
    // `newline`: ^ and $ also match at line breaks (search() on a message).
    static std::unique_ptr<Regex> compile(const std::string& pattern, bool newline);
    ~Regex()
    {
        if (compiled_)
            regfree(&re_);
    }
    Regex(const Regex&) = delete;
    Regex& operator=(const Regex&) = delete;
    // True when the expression matches somewhere in text (which may hold NULs).
    bool match(std::string_view text) const;

private:
    Regex() = default;
    regex_t re_{};
    bool compiled_ = false;
};

enum class ActionId : unsigned char {
    Forward, ForwardUdp, ForwardTcp, ForwardTls, Send, Drop, Break, Exit, Return, Route, Log,
    SlSendReply, SlReplyError, MaxFwd, RecordRoute, LooseRoute, Search, AppendHf, RemoveHf,
    IsPresentHf, SetFlag, ResetFlag, IsFlagSet, RewriteHost, RewriteHostPort, RewritePort,
    RewriteUser, RewriteUri, ForceRport, IsPeerVerified, TlsPeerMatchesFrom, TlsPeerSan,
};

// One call of an action with its arguments converted.
struct Call {
    ActionId id = ActionId::Drop;
    FwdSpec fwd;                 // forward*, send
    long long num = 0;           // return value, code, limit, flag, port, log level, route index
    std::string text;            // log message, reason, header line or name, rewrite text
    std::unique_ptr<Regex> re;   // search
    cfg::Loc loc;
};

enum class CmpOp : unsigned char { Eq, Ne, Match, Lt, Gt, Le, Ge };

// One comparison "operand op value" with the value in its compiled form.
struct Cmp {
    enum class Rhs : unsigned char { Text, Num, Regex, Myself, Addr, Net, Proto, Af, Never };
    cfg::Operand operand = cfg::Operand::Method;
    CmpOp op = CmpOp::Eq;
    Rhs rhs = Rhs::Text;
    std::string text;
    long long num = 0;           // Num; Net: prefix length; Proto: Proto; Af: AF_*
    SockAddr addr;               // Addr, Net
    std::unique_ptr<Regex> re;
};

struct Cond {
    enum class Kind : unsigned char { And, Or, Not, Cmp, Call, Const };
    Kind kind = Kind::Const;
    bool value = false;          // Const
    std::unique_ptr<Cond> a, b;  // And/Or/Not
    Cmp cmp;
    Call call;
};

struct Instr {
    bool is_if = false;
    Call call;                   // !is_if
    std::unique_ptr<Cond> cond;  // is_if
    std::vector<Instr> then_body, else_body;
};

struct RouteProgram {
    std::vector<std::vector<Instr>> routes;   // in Config::routes order
    int main = -1;                            // index of the main route, -1 if none
};

// How a statement ended: go on, leave the current block, or stop the script.
enum class Flow : unsigned char { Next, Return, Stop };
struct Outcome {
    Flow flow = Flow::Next;
    int value = 1;
};

// One run of the script on one message.
struct Exec {
    const RouteProgram& prog;
    MsgContext& ctx;
    RouteHost& host;
    int depth = 0;               // route(N) nesting
};

// route_engine.cpp
bool compile_call(const Config& cfg, const std::string& name, const std::vector<cfg::Value>& args,
                  const cfg::Loc& loc, Call& out);
Outcome exec_call(const Call& c, Exec& ex);
// The number in v (a number, or a string of digits); fallback when neither.
long long value_int(const cfg::Value& v, long long fallback);

// route_cond.cpp
std::unique_ptr<Cond> compile_cond(const Config& cfg, const cfg::Expr& e);
// Tests c; sets `stop` when a call inside it stopped the script.
bool eval_cond(const Cond& c, Exec& ex, bool& stop);

// route_actions.cpp: the actions that read or change the message.
int act_record_route(MsgContext& ctx);
std::string expand_log_text(const std::string& text, const MsgContext& ctx);
// The host of the From URI ($fd) and of the Request-URI ($rd); "" when there is none.
std::string from_domain(const MsgContext& ctx);
std::string ruri_domain(const MsgContext& ctx);
int act_loose_route(MsgContext& ctx, const RouteHost& host);
int act_append_hf(MsgContext& ctx, const std::string& line);
int act_remove_hf(MsgContext& ctx, std::string_view name);
int act_is_present_hf(const MsgContext& ctx, std::string_view name);
int act_rewrite(MsgContext& ctx, ActionId id, const std::string& text, long long num);

}  // namespace ser

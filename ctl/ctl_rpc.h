#pragma once
// JSON-RPC 2.0 (https://www.jsonrpc.org/specification) for the control
// socket: a table of methods and one entry point that turns a request text
// into a response text. No sockets here. JSON is read and written with
// nlohmann::json; nothing a client sends can crash it: a request that does
// not parse, has the wrong shape, names no method or gives wrong params gets
// the error object the specification names, and an exception from a method
// becomes an error object too.

#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ser::ctl {

using json = nlohmann::json;

// The specification's error codes.
enum RpcCode : int {
    kParseError = -32700,
    kInvalidRequest = -32600,
    kMethodNotFound = -32601,
    kInvalidParams = -32602,
    kInternalError = -32603,
    kServerError = -32000,   // the method ran and failed (e.g. tls.reload kept the old material)
};

// Thrown by a method for a failure the client should see as such.
struct RpcError : std::runtime_error {
    RpcError(int c, const std::string& m, json d = nullptr) : std::runtime_error(m), code(c), data(std::move(d)) {}
    int code;
    json data;
};

class Rpc {
public:
    using Method = std::function<json(const json& params)>;

    // `params_help` names the parameters ("ID", "[N]"); `help` one line.
    void add(std::string name, std::string params_help, std::string help, Method m);

    // One request text (an object, or a batch array) to its response text;
    // "" when nothing is to be sent back (notifications only).
    std::string handle(std::string_view request) const;

    struct Entry {
        std::string params_help, help;
        Method fn;
    };
    const std::map<std::string, Entry, std::less<>>& methods() const { return methods_; }

    // The error response for a request that never reached parsing (too large).
    static std::string error_text(int code, const std::string& message);

private:
    json one(const json& req) const;   // the response, or null for a notification
    std::map<std::string, Entry, std::less<>> methods_;
};

// params helpers for methods: the i-th positional parameter or the named
// one, with a type check that throws kInvalidParams.
const json* param(const json& params, size_t index, const char* name);
long long int_param(const json& params, size_t index, const char* name, bool required, long long fallback = 0);

}  // namespace ser::ctl

// JSON-RPC 2.0 dispatch (see ctl_rpc.h).
#include "ctl/ctl_rpc.h"

namespace ser::ctl {
namespace {

json error_obj(const json& id, int code, const std::string& message, const json& data = nullptr)
{
    json e = {{"code", code}, {"message", message}};
    if (!data.is_null())
        e["data"] = data;
    return {{"jsonrpc", "2.0"}, {"error", std::move(e)}, {"id", id}};
}

}  // namespace

void Rpc::add(std::string name, std::string params_help, std::string help, Method m)
{
    methods_[std::move(name)] = Entry{std::move(params_help), std::move(help), std::move(m)};
}

std::string Rpc::error_text(int code, const std::string& message)
{
    return error_obj(nullptr, code, message).dump() + "\n";
}

json Rpc::one(const json& req) const
{
    if (!req.is_object())
        return error_obj(nullptr, kInvalidRequest, "a request is a JSON object");
    // The id a reply carries: a string, a number or null; anything else is
    // an invalid request (answered with a null id).
    json id = nullptr;
    bool notification = true;
    if (auto it = req.find("id"); it != req.end()) {
        if (!it->is_string() && !it->is_number() && !it->is_null())
            return error_obj(nullptr, kInvalidRequest, "id must be a string, a number or null");
        id = *it;
        notification = false;
    }
    auto ver = req.find("jsonrpc");
    if (ver == req.end() || *ver != "2.0")
        return error_obj(id, kInvalidRequest, "\"jsonrpc\": \"2.0\" is missing");
    auto meth = req.find("method");
    if (meth == req.end() || !meth->is_string())
        return error_obj(id, kInvalidRequest, "\"method\" must be a string");
    json params = json::array();
    if (auto p = req.find("params"); p != req.end()) {
        if (!p->is_array() && !p->is_object())
            return error_obj(id, kInvalidRequest, "\"params\" must be an array or an object");
        params = *p;
    }
    auto m = methods_.find(meth->get<std::string>());
    if (m == methods_.end())
        return notification ? json(nullptr)
                            : error_obj(id, kMethodNotFound, "no method " + meth->get<std::string>() +
                                                                 " (system.listMethods lists them)");
    json result;
    try {
        result = m->second.fn(params);
    } catch (const RpcError& e) {
        return notification ? json(nullptr) : error_obj(id, e.code, e.what(), e.data);
    } catch (const std::exception& e) {
        return notification ? json(nullptr) : error_obj(id, kInternalError, e.what());
    }
    if (notification)
        return nullptr;
    return {{"jsonrpc", "2.0"}, {"result", std::move(result)}, {"id", id}};
}

std::string Rpc::handle(std::string_view request) const
{
    json req = json::parse(request.begin(), request.end(), nullptr, false);
    if (req.is_discarded())
        return error_text(kParseError, "the request is not JSON");
    json out;
    if (req.is_array()) {
        if (req.empty())
            return error_text(kInvalidRequest, "an empty batch");
        out = json::array();
        for (const json& r : req) {
            json one_out = one(r);
            if (!one_out.is_null())
                out.push_back(std::move(one_out));
        }
        if (out.empty())
            return {};
    } else {
        out = one(req);
        if (out.is_null())
            return {};
    }
    // Invalid UTF-8 from a peer's certificate or a name never throws here.
    return out.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

const json* param(const json& params, size_t index, const char* name)
{
    if (params.is_array())
        return index < params.size() ? &params[index] : nullptr;
    if (params.is_object()) {
        auto it = params.find(name);
        return it == params.end() ? nullptr : &*it;
    }
    return nullptr;
}

long long int_param(const json& params, size_t index, const char* name, bool required, long long fallback)
{
    const json* p = param(params, index, name);
    if (!p) {
        if (required)
            throw RpcError(kInvalidParams, std::string("missing parameter ") + name);
        return fallback;
    }
    if (p->is_number_integer())
        return p->get<long long>();
    if (p->is_string()) {
        // serctl passes words from its command line as strings.
        const std::string& s = p->get_ref<const std::string&>();
        size_t used = 0;
        try {
            long long v = std::stoll(s, &used, 10);
            if (used == s.size())
                return v;
        } catch (const std::exception&) {
        }
    }
    throw RpcError(kInvalidParams, std::string("parameter ") + name + " must be an integer");
}

}  // namespace ser::ctl

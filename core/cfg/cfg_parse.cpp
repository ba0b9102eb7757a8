// Runs the generated lexer and parser over a file or a string, and expands
// include_file statements in place.
#include "cfg/cfg_parse.h"

#include "cfg.tab.hh"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <climits>
#include <cstdlib>

#include <sys/stat.h>
#include <set>
#include <sstream>

// Flex's reentrant interface, declared here so no generated header is needed.
typedef struct yy_buffer_state* YY_BUFFER_STATE;
int ser_cfg_yylex_init(yyscan_t* scanner);
int ser_cfg_yylex_destroy(yyscan_t scanner);
YY_BUFFER_STATE ser_cfg_yy_scan_bytes(const char* bytes, int len, yyscan_t scanner);

namespace ser::cfg {

std::string Loc::str() const
{
    // Line 0: a place that is not a line of a file ("command line: -p 0").
    if (line == 0)
        return file;
    return file + ":" + std::to_string(line) + ":" + std::to_string(col);
}

namespace {

constexpr int kMaxIncludeDepth = 16;
constexpr size_t kMaxFileSize = 64u << 20;  // a config larger than 64 MiB is a mistake

ParseOutcome parse_one(std::string_view text, const std::string& name)
{
    ParseOutcome res;
    if (text.size() > kMaxFileSize) {
        res.loc = Loc{name, 1, 1};
        res.error = "file larger than 64 MiB";
        return res;
    }
    ParseCtx ctx;
    ctx.file = name;
    yyscan_t scanner = nullptr;
    ser_cfg_yylex_init(&scanner);
    ser_cfg_yy_scan_bytes(text.data(), static_cast<int>(text.size()), scanner);
    Parser parser(scanner, ctx);
    int rc = parser.parse();
    ser_cfg_yylex_destroy(scanner);
    if (rc != 0 || !ctx.error.empty()) {
        res.loc = ctx.error.empty() ? Loc{name, ctx.line, ctx.col} : ctx.err_loc;
        res.error = ctx.error.empty() ? "syntax error" : ctx.error;
        return res;
    }
    res.file = std::move(ctx.out);
    return res;
}

std::string dir_of(const std::string& path)
{
    auto slash = path.rfind('/');
    return slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
}

bool read_file(const std::string& path, std::string& out)
{
    struct stat st;
    if (stat(path.c_str(), &st) != 0)
        return false;
    if (!S_ISREG(st.st_mode)) {
        errno = EISDIR;
        return false;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return false;
    std::ostringstream ss;
    ss << in.rdbuf();
    out = ss.str();
    return true;
}

struct Failure {
    Loc loc;
    std::string msg;
};

// Replaces each include_file statement of `file` by the statements of the
// included file, recursively. Returns the first failure, if any.
std::optional<Failure> expand_includes(File& file, const std::string& base_dir, int depth,
                                       std::set<std::string>& active)
{
    std::vector<Stmt> out;
    out.reserve(file.stmts.size());
    for (auto& st : file.stmts) {
        bool is_include = st.kind == Stmt::Kind::LoadModule &&
                          (st.assign.name == "include_file" || st.assign.name == "import_file");
        if (!is_include) {
            out.push_back(std::move(st));
            continue;
        }
        std::string path = (!st.text.empty() && st.text[0] == '/') ? st.text : base_dir + st.text;
        if (depth >= kMaxIncludeDepth)
            return Failure{st.loc, "include_file nested deeper than 16 levels"};
        char real[PATH_MAX];
        std::string key = realpath(path.c_str(), real) ? std::string(real) : path;
        if (active.count(key))
            return Failure{st.loc, "include_file \"" + st.text + "\" includes itself"};
        std::string text;
        if (!read_file(path, text))
            return Failure{st.loc, "cannot read included file \"" + path + "\""};
        ParseOutcome inc = parse_one(text, path);
        if (!inc.file)
            return Failure{inc.loc, inc.error};
        active.insert(key);
        auto err = expand_includes(*inc.file, dir_of(path), depth + 1, active);
        active.erase(key);
        if (err)
            return err;
        for (auto& s : inc.file->stmts)
            out.push_back(std::move(s));
    }
    file.stmts = std::move(out);
    return std::nullopt;
}

ParseOutcome finish(ParseOutcome res, const std::string& name)
{
    if (!res.file)
        return res;
    char real[PATH_MAX];
    std::set<std::string> active{realpath(name.c_str(), real) ? std::string(real) : name};
    if (auto err = expand_includes(*res.file, dir_of(name), 0, active)) {
        res.file.reset();
        res.loc = err->loc;
        res.error = err->msg;
    }
    return res;
}

}  // namespace

ParseOutcome parse_file(const std::string& path)
{
    std::string text;
    if (!read_file(path, text)) {
        ParseOutcome res;
        res.loc = Loc{path, 0, 0};
        res.error = errno == EISDIR ? std::string("not a regular file") :
                    std::string("cannot read config file: ") + std::strerror(errno);
        return res;
    }
    return finish(parse_one(text, path), path);
}

ParseOutcome parse_text(std::string_view text, const std::string& name)
{
    return finish(parse_one(text, name), name);
}

}  // namespace ser::cfg

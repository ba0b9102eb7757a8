#pragma once
// Front end of the config reader: runs the Flex lexer and Bison parser over one
// file (and the files it includes) and returns the AST, or the first error as
// "file:line:col: message".

#include "cfg/cfg_ast.h"

#include <optional>
#include <string>
#include <string_view>

namespace ser::cfg {

// State shared by the lexer and the parser while reading one file.
struct ParseCtx {
    std::string file;      // path as given, used in every Loc
    File out;              // statements appended by the grammar actions
    Loc err_loc;           // first error: where, and what
    std::string error;
    void fail(int l, int c, const std::string& m)
    {
        if (error.empty()) { err_loc = loc(l, c); error = m; }
    }
    int line = 1;
    int col = 1;
    int comment_line = 0;  // where the open /* comment started
    int comment_col = 0;
    Loc loc(int l, int c) const { return Loc{file, l, c}; }
};

struct ParseOutcome {
    std::optional<File> file;
    Loc loc;               // set with error when file is empty
    std::string error;
};

// Parses `path` and, recursively, its include_file statements (relative to
// the including file; depth limited to 16, cycles refused).
ParseOutcome parse_file(const std::string& path);

// Parses config text held in memory; `name` is used in locations.
ParseOutcome parse_text(std::string_view text, const std::string& name);

}  // namespace ser::cfg

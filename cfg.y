/* cfg.y — grammar of ser.cfg (SER 0.9 dialect plus tls_domain, tls_client_domain
 * and serial blocks). It builds the AST of core/cfg_ast.h and gives no meaning to
 * any name: core/cfg_check.cpp does that. */
%require "3.2"
%language "c++"
%define api.namespace {ser::cfg}
%define api.parser.class {Parser}
%define api.value.type variant
%define api.token.constructor
%define api.location.type {ser::cfg::SrcPos}
%define parse.error detailed
%locations
%param {yyscan_t yyscanner} {ser::cfg::ParseCtx& ctx}

%code requires {
#include "cfg/cfg_ast.h"
#include <string>
namespace ser::cfg {
struct ParseCtx;
// Start of a token; enough for "file:line:col" messages.
struct SrcPos { int line = 0; int col = 0; };
inline std::ostream& operator<<(std::ostream& o, const SrcPos& p) { return o << p.line << ':' << p.col; }
}
#define YYLLOC_DEFAULT(Cur, Rhs, N) do { if (N) (Cur) = YYRHSLOC(Rhs, 1); else (Cur) = YYRHSLOC(Rhs, 0); } while (0)
typedef void* yyscan_t;
}

%code {
#include "cfg/cfg_parse.h"
ser::cfg::Parser::symbol_type ser_cfg_lex(yyscan_t yyscanner, ser::cfg::ParseCtx& ctx);
#define yylex ser_cfg_lex
namespace {
using namespace ser::cfg;
Value make_value(Value::Kind k, std::string text, const Loc& loc)
{
    Value v; v.kind = k; v.text = std::move(text); v.loc = loc; return v;
}
ExprPtr make_expr(Expr e) { return std::make_shared<const Expr>(std::move(e)); }
}
#define L(p) ctx.loc((p).line, (p).col)
}

%token <std::string> ID "name" STRING "string" IP4 "IPv4 address" IP6 "IPv6 address" ERROR "invalid token"
%token <long long> NUMBER "number"
%token IF "if" ELSE "else"
%token EQ "==" NE "!=" MATCH "=~" LE "<=" GE ">=" LT "<" GT ">" AND "&&" OR "||" NOT "!"
%token ASSIGN "=" LPAREN "(" RPAREN ")" LBRACE "{" RBRACE "}" LBRACKET "[" RBRACKET "]"
%token COMMA "," SEMI ";" COLON ":" SLASH "/" MINUS "-"
%token END 0 "end of file"

%type <Value> value atom
%type <std::vector<Value>> args arglist
%type <Assign> assign
%type <ActionList> items
%type <Action> action if_action
%type <std::shared_ptr<const ActionList>> body else_part
%type <ExprPtr> expr
%type <std::string> cmp_op lhs

%left OR
%left AND
%precedence NOT
%precedence THEN
%precedence ELSE

%start file

%%

file: %empty | file top ;

top: assign                 { Stmt s; s.kind = Stmt::Kind::Assign; s.loc = $1.loc;
                                       s.assign = std::move($1); ctx.out.stmts.push_back(std::move(s)); }
   | ID STRING              { Stmt s; s.kind = Stmt::Kind::LoadModule; s.loc = L(@1);
                                       s.assign.name = $1; s.text = $2; ctx.out.stmts.push_back(std::move(s)); }
   | ID STRING "{" items "}" { Stmt s; s.kind = Stmt::Kind::Serial; s.loc = L(@1);
                                       s.assign.name = $1; s.text = $2; s.body = std::move($4);
                                       ctx.out.stmts.push_back(std::move(s)); }
   | ID "{" items "}"       { Stmt s; s.kind = Stmt::Kind::Route; s.loc = L(@1);
                                       s.assign.name = $1; s.body = std::move($3); ctx.out.stmts.push_back(std::move(s)); }
   | ID "[" value "]" "{" items "}"
                                     { Stmt s; s.kind = Stmt::Kind::Route; s.loc = L(@1); s.assign.name = $1;
                                       s.key = std::move($3); s.has_key = true; s.body = std::move($6);
                                       ctx.out.stmts.push_back(std::move(s)); }
   | ID "(" args ")"                 { Stmt s; s.kind = Stmt::Kind::Call; s.loc = L(@1);
                                       s.assign.name = $1; s.args = std::move($3); ctx.out.stmts.push_back(std::move(s)); }
   | ID                     { /* A bare word: an option of the statement before it
                                        (listen=tcp:... proxy_protocol); cfg_check judges it. */
                                       Value w = make_value(Value::Kind::Ident, $1, L(@1));
                                       if (!ctx.out.stmts.empty() && ctx.out.stmts.back().kind == Stmt::Kind::Assign) {
                                           ctx.out.stmts.back().assign.words.push_back(std::move(w));
                                       } else {
                                           Stmt s; s.kind = Stmt::Kind::Word; s.loc = L(@1); s.assign.name = $1;
                                           ctx.out.stmts.push_back(std::move(s));
                                       } }
   | ";"
   ;

assign: ID "=" value                 { $$.name = $1; $$.value = std::move($3); $$.loc = L(@1); } ;

/* Block bodies hold actions and assignments; cfg_check says which belong where. */
items: %empty                        { }
     | items action                  { $$ = std::move($1); $$.push_back(std::move($2)); }
     | items assign         { $$ = std::move($1); Action a; a.kind = Action::Kind::Call;
                                       a.name = "="; a.loc = $2.loc;
                                       a.args.push_back(make_value(Value::Kind::Ident, $2.name, $2.loc));
                                       a.args.push_back(std::move($2.value)); $$.push_back(std::move(a)); }
     | items ";"                     { $$ = std::move($1); }
     ;

action: ID "(" args ")" ";"          { $$.name = $1; $$.args = std::move($3); $$.has_parens = true; $$.loc = L(@1); }
      | ID ";"                       { $$.name = $1; $$.loc = L(@1); }
      | if_action                    { $$ = std::move($1); }
      | "{" items "}"                { $$.kind = Action::Kind::If; $$.loc = L(@1); $$.name = "{}";
                                       Expr t; t.kind = Expr::Kind::Name; t.name = "true"; t.loc = L(@1);
                                       $$.cond = make_expr(std::move(t));
                                       $$.then_body = std::make_shared<const ActionList>(std::move($2)); }
      ;

if_action: "if" "(" expr ")" body else_part
                                     { $$.kind = Action::Kind::If; $$.loc = L(@1); $$.cond = $3;
                                       $$.then_body = $5; $$.else_body = $6; }
         ;

body: action                         { if ($1.name == "{}") { $$ = $1.then_body; }
                                       else { ActionList l; l.push_back(std::move($1));
                                              $$ = std::make_shared<const ActionList>(std::move(l)); } }
    ;

else_part: %empty %prec THEN         { }
         | "else" body               { $$ = $2; }
         ;

expr: expr "||" expr                 { Expr e; e.kind = Expr::Kind::Or; e.a = $1; e.b = $3; e.loc = L(@2); $$ = make_expr(std::move(e)); }
    | expr "&&" expr                 { Expr e; e.kind = Expr::Kind::And; e.a = $1; e.b = $3; e.loc = L(@2); $$ = make_expr(std::move(e)); }
    | "!" expr                       { Expr e; e.kind = Expr::Kind::Not; e.a = $2; e.loc = L(@1); $$ = make_expr(std::move(e)); }
    | "(" expr ")"                   { $$ = $2; }
    | lhs cmp_op value               { Expr e; e.kind = Expr::Kind::Cmp; e.name = $1; e.op = $2; e.rhs = std::move($3);
                                       e.loc = L(@1); $$ = make_expr(std::move(e)); }
    | ID "(" args ")"                { Expr e; e.kind = Expr::Kind::Call; e.name = $1; e.args = std::move($3);
                                       e.loc = L(@1); $$ = make_expr(std::move(e)); }
    | ID                             { Expr e; e.kind = Expr::Kind::Name; e.name = $1; e.loc = L(@1); $$ = make_expr(std::move(e)); }
    ;

lhs: ID                              { $$ = $1; }
   | ID ":" ID                       { $$ = $1 + ":" + $3; }
   ;

cmp_op: "==" { $$ = "=="; } | "!=" { $$ = "!="; } | "=~" { $$ = "=~"; }
      | "<" { $$ = "<"; } | ">" { $$ = ">"; } | "<=" { $$ = "<="; } | ">=" { $$ = ">="; } ;

args: %empty                         { }
    | arglist                        { $$ = std::move($1); }
    ;
arglist: value                       { $$.push_back(std::move($1)); }
       | arglist "," value           { $$ = std::move($1); $$.push_back(std::move($3)); }
       ;

value: atom                          { $$ = std::move($1); }
     | value ":" atom                { if ($1.kind == Value::Kind::Colon) { $$ = std::move($1); }
                                       else { $$ = make_value(Value::Kind::Colon, $1.text, $1.loc);
                                              $$.parts.push_back(std::move($1)); }
                                       $$.text += ":" + $3.text; $$.parts.push_back(std::move($3)); }
     ;

atom: NUMBER                         { $$ = make_value(Value::Kind::Int, std::to_string($1), L(@1)); $$.num = $1; }
    | "-" NUMBER                     { $$ = make_value(Value::Kind::Int, "-" + std::to_string($2), L(@1)); $$.num = -$2; }
    | STRING                         { $$ = make_value(Value::Kind::Str, $1, L(@1)); }
    | ID                             { $$ = make_value(Value::Kind::Ident, $1, L(@1)); }
    | IP4                            { $$ = make_value(Value::Kind::Ip4, $1, L(@1)); }
    | IP6                            { $$ = make_value(Value::Kind::Ip6, $1, L(@1)); }
    | IP4 "/" NUMBER                 { $$ = make_value(Value::Kind::Net, $1 + "/" + std::to_string($3), L(@1)); $$.num = $3;
                                       $$.parts.push_back(make_value(Value::Kind::Ip4, $1, L(@1))); }
    | IP6 "/" NUMBER                 { $$ = make_value(Value::Kind::Net, $1 + "/" + std::to_string($3), L(@1)); $$.num = $3;
                                       $$.parts.push_back(make_value(Value::Kind::Ip6, $1, L(@1))); }
    ;

%%

void ser::cfg::Parser::error(const location_type& l, const std::string& m)
{
    ctx.fail(l.line, l.col, m);
}

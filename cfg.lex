/* cfg.lex — tokens of the ser.cfg language (SER 0.9 dialect).
 * Keywords are not tokens: any word is ID, and cfg_check.cpp gives words their
 * meaning, so a misspelled parameter gets a "did you mean" instead of a syntax error. */
%{
#include "cfg/cfg_parse.h"
#include "cfg.tab.hh"

#include <cerrno>
#include <cstdlib>

using ser::cfg::Parser;

#define YY_DECL Parser::symbol_type ser_cfg_lex(yyscan_t yyscanner, ser::cfg::ParseCtx& ctx)
#define LOC() ser::cfg::SrcPos{tok_line, tok_col}
#define YY_USER_ACTION  tok_line = ctx.line; tok_col = ctx.col; advance(ctx, yytext, yyleng);

static Parser::symbol_type lex_error(ser::cfg::ParseCtx& ctx, const std::string& msg, ser::cfg::SrcPos p)
{
    ctx.fail(p.line, p.col, msg);
    return Parser::make_ERROR(msg, p);
}

static void advance(ser::cfg::ParseCtx& ctx, const char* s, int n)
{
    for (int i = 0; i < n; i++) {
        if (s[i] == '\n') { ctx.line++; ctx.col = 1; }
        else ctx.col++;
    }
}
%}

%option reentrant noyywrap nounput noinput nodefault never-interactive
%option prefix="ser_cfg_yy"
%x STR COMMENT

DIGIT   [0-9]
WORD    [A-Za-z_][A-Za-z0-9_-]*
LABEL   [A-Za-z0-9_][A-Za-z0-9_-]*
HEX     [0-9A-Fa-f.]

%%
%{
    int tok_line = ctx.line, tok_col = ctx.col;
    std::string str;            /* STR accumulator */
    int str_line = 0, str_col = 0;
    (void)tok_line; (void)tok_col;
%}

[ \t\r\n]+                      { }
"#"[^\n]*                       { }
"/*"                            { BEGIN(COMMENT); ctx.comment_line = tok_line; ctx.comment_col = tok_col; }
<COMMENT>"*/"                   { BEGIN(INITIAL); }
<COMMENT>[^*]+|"*"              { }
<COMMENT><<EOF>>                { return lex_error(ctx, "unterminated /* comment", ser::cfg::SrcPos{ctx.comment_line, ctx.comment_col}); }

\"                              { BEGIN(STR); str.clear(); str_line = tok_line; str_col = tok_col; }
<STR>\"                         { BEGIN(INITIAL);
                                  return Parser::make_STRING(str, ser::cfg::SrcPos{str_line, str_col}); }
<STR>\\n                        { str += '\n'; }
<STR>\\r                        { str += '\r'; }
<STR>\\t                        { str += '\t'; }
<STR>\\\\                       { str += '\\'; }
<STR>\\\"                       { str += '"'; }
<STR>\\.                        { str += yytext; }  /* unknown escapes kept (regexes) */
<STR>\\?\n                      { return lex_error(ctx, "newline in string", ser::cfg::SrcPos{str_line, str_col}); }
<STR>[^\\"\n]+                  { str += yytext; }
<STR>\\                         { str += yytext; }
<STR><<EOF>>                    { return lex_error(ctx, "unterminated string", ser::cfg::SrcPos{str_line, str_col}); }

{DIGIT}+"."{DIGIT}+"."{DIGIT}+"."{DIGIT}+  { return Parser::make_IP4(yytext, LOC()); }
"["{HEX}*":"{HEX}*":"[0-9A-Fa-f:.]*"]"     { return Parser::make_IP6(yytext, LOC()); }
{DIGIT}+                        {
                                  errno = 0;
                                  long long v = std::strtoll(yytext, nullptr, 10);
                                  if (errno == ERANGE || v > 2147483647LL)
                                      return lex_error(ctx, "number too large", LOC());
                                  return Parser::make_NUMBER(v, LOC());
                                }
"if"                            { return Parser::make_IF(LOC()); }
"else"                          { return Parser::make_ELSE(LOC()); }
{WORD}("."{LABEL})*             { return Parser::make_ID(yytext, LOC()); }
"$"{WORD}                       { return Parser::make_ID(yytext, LOC()); }  /* $rm, $si: Kamailio pseudo-variables */
"0"[xX][0-9A-Fa-f]+             {
                                  long long v = std::strtoll(yytext + 2, nullptr, 16);
                                  if (yyleng > 10 || v > 2147483647LL)
                                      return lex_error(ctx, "number too large", LOC());
                                  return Parser::make_NUMBER(v, LOC());
                                }
{DIGIT}+[A-Za-z_-]{LABEL}?("."{LABEL})*  { return Parser::make_ID(yytext, LOC()); }  /* 3com.example */
{DIGIT}+("."{LABEL})+           { return Parser::make_ID(yytext, LOC()); }  /* 123.example */

"=="                            { return Parser::make_EQ(LOC()); }
"!="                            { return Parser::make_NE(LOC()); }
"=~"                            { return Parser::make_MATCH(LOC()); }
"<="                            { return Parser::make_LE(LOC()); }
">="                            { return Parser::make_GE(LOC()); }
"&&"                            { return Parser::make_AND(LOC()); }
"||"                            { return Parser::make_OR(LOC()); }
"<"                             { return Parser::make_LT(LOC()); }
">"                             { return Parser::make_GT(LOC()); }
"!"                             { return Parser::make_NOT(LOC()); }
"="                             { return Parser::make_ASSIGN(LOC()); }
"("                             { return Parser::make_LPAREN(LOC()); }
")"                             { return Parser::make_RPAREN(LOC()); }
"{"                             { return Parser::make_LBRACE(LOC()); }
"}"                             { return Parser::make_RBRACE(LOC()); }
"["                             { return Parser::make_LBRACKET(LOC()); }
"]"                             { return Parser::make_RBRACKET(LOC()); }
","                             { return Parser::make_COMMA(LOC()); }
";"                             { return Parser::make_SEMI(LOC()); }
":"                             { return Parser::make_COLON(LOC()); }
"/"                             { return Parser::make_SLASH(LOC()); }
"-"                             { return Parser::make_MINUS(LOC()); }
<<EOF>>                         { return Parser::make_END(LOC()); }
.                               {
                                  unsigned char c = (unsigned char)yytext[0];
                                  char buf[64];
                                  if (c >= 0x20 && c < 0x7f)
                                      snprintf(buf, sizeof buf, "unexpected character '%c'", c);
                                  else
                                      snprintf(buf, sizeof buf, "unexpected byte 0x%02x", c);
                                  return lex_error(ctx, buf, LOC());
                                }
%%

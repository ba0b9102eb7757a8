// Unit tests of the config front end and checker API: the values the
// grammar builds (Int, Str, Ident, Ip4, Ip6, Net, Colon), string escapes,
// comments, the line:col of tokens, the AST of route blocks, did_you_mean(),
// diagnostics, and the speed of checking a 10,000-line config.
#include "cfg/cfg_check.h"
#include "cfg/cfg_parse.h"

#include <cppunit/extensions/HelperMacros.h>

#include <ctime>
#include <iostream>
#include <string>
#include <vector>

namespace {

using namespace ser::cfg;
using K = Value::Kind;

// Parses text that must be free of syntax errors.
File parse_ok(const std::string& text)
{
    ParseOutcome p = parse_text(text, "t.cfg");
    if (!p.file)
        CPPUNIT_FAIL("unexpected parse error: " + p.loc.str() + ": " + p.error + "\nin:\n" + text);
    return *p.file;
}

// The value of the one top-level assignment of `text`.
Value value_of(const std::string& text)
{
    File f = parse_ok(text);
    CPPUNIT_ASSERT_EQUAL(size_t{1}, f.stmts.size());
    CPPUNIT_ASSERT(f.stmts[0].kind == Stmt::Kind::Assign);
    return f.stmts[0].assign.value;
}

// The first syntax error of `text` as "line:col: message".
std::string parse_error(const std::string& text)
{
    ParseOutcome p = parse_text(text, "t.cfg");
    if (p.file)
        CPPUNIT_FAIL("expected a parse error in:\n" + text);
    CPPUNIT_ASSERT_EQUAL(std::string("t.cfg"), p.loc.file);
    return std::to_string(p.loc.line) + ":" + std::to_string(p.loc.col) + ": " + p.error;
}

// The first Error diagnostic of checking `text`, as "line:col: message".
std::string first_error(const std::string& text)
{
    CheckResult r = load_config_text(text, "t.cfg");
    for (const auto& d : r.diags)
        if (d.level == Diag::Level::Error)
            return std::to_string(d.loc.line) + ":" + std::to_string(d.loc.col) + ": " + d.msg;
    return "";
}

bool starts_with(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }

void assert_loc(const Loc& l, int line, int col)
{
    CPPUNIT_ASSERT_EQUAL_MESSAGE("line of " + l.str(), line, l.line);
    CPPUNIT_ASSERT_EQUAL_MESSAGE("col of " + l.str(), col, l.col);
}

class CfgParseTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CfgParseTest);
    CPPUNIT_TEST(testIntValues);
    CPPUNIT_TEST(testStrAndIdentValues);
    CPPUNIT_TEST(testAddressValues);
    CPPUNIT_TEST(testColonValues);
    CPPUNIT_TEST(testStringEscapes);
    CPPUNIT_TEST(testStringErrors);
    CPPUNIT_TEST(testComments);
    CPPUNIT_TEST(testTokenLocations);
    CPPUNIT_TEST(testRouteAst);
    CPPUNIT_TEST(testElseIfChain);
    CPPUNIT_TEST(testTopLevelStatements);
    CPPUNIT_TEST(testSyntaxErrorLocations);
    CPPUNIT_TEST(testWordsAfterValue);
    CPPUNIT_TEST(testDidYouMean);
    CPPUNIT_TEST(testDiagnostics);
    CPPUNIT_TEST(testMissingFile);
    CPPUNIT_TEST(testDirectoryIsNotAConfig);
    CPPUNIT_TEST(testTypedValues);
    CPPUNIT_TEST(testBigConfigIsFast);
    CPPUNIT_TEST_SUITE_END();

public:
    void testIntValues()
    {
        Value v = value_of("children=12");
        CPPUNIT_ASSERT(v.kind == K::Int);
        CPPUNIT_ASSERT_EQUAL(12LL, v.num);
        CPPUNIT_ASSERT_EQUAL(std::string("12"), v.text);

        v = value_of("debug = -3");
        CPPUNIT_ASSERT(v.kind == K::Int);
        CPPUNIT_ASSERT_EQUAL(-3LL, v.num);
        CPPUNIT_ASSERT_EQUAL(std::string("-3"), v.text);

        v = value_of("x=0");
        CPPUNIT_ASSERT_EQUAL(0LL, v.num);
        v = value_of("x=2147483647");
        CPPUNIT_ASSERT_EQUAL(2147483647LL, v.num);

        CPPUNIT_ASSERT_EQUAL(std::string("1:3: number too large"), parse_error("x=2147483648"));
        CPPUNIT_ASSERT_EQUAL(std::string("2:5: number too large"), parse_error("a=1\nb = 99999999999999999999999"));
    }

    void testStrAndIdentValues()
    {
        Value v = value_of("user=\"ser daemon\"");
        CPPUNIT_ASSERT(v.kind == K::Str);
        CPPUNIT_ASSERT_EQUAL(std::string("ser daemon"), v.text);

        v = value_of("user=\"\"");
        CPPUNIT_ASSERT(v.kind == K::Str);
        CPPUNIT_ASSERT_EQUAL(std::string(), v.text);

        v = value_of("fork=yes");
        CPPUNIT_ASSERT(v.kind == K::Ident);
        CPPUNIT_ASSERT_EQUAL(std::string("yes"), v.text);

        // Host names: dots and dashes, labels starting with a digit after the first.
        v = value_of("alias=sip-proxy.example.com");
        CPPUNIT_ASSERT(v.kind == K::Ident);
        CPPUNIT_ASSERT_EQUAL(std::string("sip-proxy.example.com"), v.text);
        v = value_of("alias=host1.2nd.example");
        CPPUNIT_ASSERT(v.kind == K::Ident);
        CPPUNIT_ASSERT_EQUAL(std::string("host1.2nd.example"), v.text);
        v = value_of("alias=123.example.net");
        CPPUNIT_ASSERT(v.kind == K::Ident);
        CPPUNIT_ASSERT_EQUAL(std::string("123.example.net"), v.text);
        v = value_of("tls_method=TLSv1.3");
        CPPUNIT_ASSERT(v.kind == K::Ident);
        CPPUNIT_ASSERT_EQUAL(std::string("TLSv1.3"), v.text);
    }

    void testAddressValues()
    {
        Value v = value_of("alias=192.0.2.1");
        CPPUNIT_ASSERT(v.kind == K::Ip4);
        CPPUNIT_ASSERT_EQUAL(std::string("192.0.2.1"), v.text);

        v = value_of("alias=[2001:db8::1]");
        CPPUNIT_ASSERT(v.kind == K::Ip6);
        CPPUNIT_ASSERT_EQUAL(std::string("[2001:db8::1]"), v.text);
        v = value_of("alias=[::1]");
        CPPUNIT_ASSERT(v.kind == K::Ip6);
        v = value_of("alias=[::ffff:192.0.2.1]");
        CPPUNIT_ASSERT(v.kind == K::Ip6);
        CPPUNIT_ASSERT_EQUAL(std::string("[::ffff:192.0.2.1]"), v.text);

        v = value_of("x=10.0.0.0/8");
        CPPUNIT_ASSERT(v.kind == K::Net);
        CPPUNIT_ASSERT_EQUAL(std::string("10.0.0.0/8"), v.text);
        CPPUNIT_ASSERT_EQUAL(8LL, v.num);
        CPPUNIT_ASSERT_EQUAL(size_t{1}, v.parts.size());
        CPPUNIT_ASSERT(v.parts[0].kind == K::Ip4);
        CPPUNIT_ASSERT_EQUAL(std::string("10.0.0.0"), v.parts[0].text);

        v = value_of("x=[2001:db8::]/32");
        CPPUNIT_ASSERT(v.kind == K::Net);
        CPPUNIT_ASSERT_EQUAL(32LL, v.num);
        CPPUNIT_ASSERT(v.parts[0].kind == K::Ip6);
        CPPUNIT_ASSERT_EQUAL(std::string("[2001:db8::]"), v.parts[0].text);
    }

    void testColonValues()
    {
        Value v = value_of("listen=udp:127.0.0.1:5060");
        CPPUNIT_ASSERT(v.kind == K::Colon);
        CPPUNIT_ASSERT_EQUAL(std::string("udp:127.0.0.1:5060"), v.text);
        CPPUNIT_ASSERT_EQUAL(size_t{3}, v.parts.size());
        CPPUNIT_ASSERT(v.parts[0].kind == K::Ident);
        CPPUNIT_ASSERT(v.parts[1].kind == K::Ip4);
        CPPUNIT_ASSERT(v.parts[2].kind == K::Int);
        CPPUNIT_ASSERT_EQUAL(5060LL, v.parts[2].num);
        assert_loc(v.loc, 1, 8);
        assert_loc(v.parts[0].loc, 1, 8);
        assert_loc(v.parts[1].loc, 1, 12);
        assert_loc(v.parts[2].loc, 1, 22);

        v = value_of("listen=tls:[::1]:5061");
        CPPUNIT_ASSERT(v.kind == K::Colon);
        CPPUNIT_ASSERT_EQUAL(size_t{3}, v.parts.size());
        CPPUNIT_ASSERT(v.parts[1].kind == K::Ip6);
        CPPUNIT_ASSERT_EQUAL(std::string("[::1]"), v.parts[1].text);

        v = value_of("alias=sip.example.com:5070");
        CPPUNIT_ASSERT(v.kind == K::Colon);
        CPPUNIT_ASSERT_EQUAL(size_t{2}, v.parts.size());
        CPPUNIT_ASSERT(v.parts[0].kind == K::Ident);
        CPPUNIT_ASSERT(v.parts[1].kind == K::Int);

        // Spaces around ':' are allowed by the grammar; the text is rebuilt without them.
        v = value_of("listen = tcp : 10.0.0.1 : 5060");
        CPPUNIT_ASSERT(v.kind == K::Colon);
        CPPUNIT_ASSERT_EQUAL(std::string("tcp:10.0.0.1:5060"), v.text);
    }

    void testStringEscapes()
    {
        Value v = value_of(R"(s="a\nb\rc\td\\e\"f")");
        CPPUNIT_ASSERT_EQUAL(std::string("a\nb\rc\td\\e\"f"), v.text);
        // Unknown escapes stay as written, so regular expressions keep their backslashes.
        v = value_of(R"(s="^sip:.*@example\.com\d")");
        CPPUNIT_ASSERT_EQUAL(std::string("^sip:.*@example\\.com\\d"), v.text);
        // A trailing lone backslash before the closing quote would escape it; "\\" is one backslash.
        v = value_of(R"(s="C:\\")");
        CPPUNIT_ASSERT_EQUAL(std::string("C:\\"), v.text);
        // Comment markers inside strings are text.
        v = value_of("s=\"# not /* a comment */\"");
        CPPUNIT_ASSERT_EQUAL(std::string("# not /* a comment */"), v.text);
    }

    void testStringErrors()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("2:7: newline in string"), parse_error("a=1\nalias=\"abc\nroute{}"));
        CPPUNIT_ASSERT_EQUAL(std::string("1:3: unterminated string"), parse_error("s=\"abc"));
        CPPUNIT_ASSERT_EQUAL(std::string("1:3: newline in string"), parse_error("s=\"abc\\\nx\""));
    }

    void testComments()
    {
        File f = parse_ok("# leading comment\n"
                          "a=1 # trailing\n"
                          "/* block\n   b=2\n*/ c=3\n"
                          "/* one * star and / slash */ d=4 /**/\n"
                          "#e=5\n");
        CPPUNIT_ASSERT_EQUAL(size_t{3}, f.stmts.size());
        CPPUNIT_ASSERT_EQUAL(std::string("a"), f.stmts[0].assign.name);
        CPPUNIT_ASSERT_EQUAL(std::string("c"), f.stmts[1].assign.name);
        assert_loc(f.stmts[1].loc, 5, 4);
        CPPUNIT_ASSERT_EQUAL(std::string("d"), f.stmts[2].assign.name);
        assert_loc(f.stmts[2].loc, 6, 30);

        // An unterminated block comment is an error (reported at its opening "/*").
        std::string e = parse_error("a=1\n/* never\nclosed\n");
        CPPUNIT_ASSERT_MESSAGE(e, e.find("unterminated /* comment") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(e, starts_with(e, "2:"));
        // A comment-only file is an empty file.
        CPPUNIT_ASSERT_EQUAL(size_t{0}, parse_ok("# nothing\n/* at all */\n").stmts.size());
        CPPUNIT_ASSERT_EQUAL(size_t{0}, parse_ok("").stmts.size());
    }

    void testTokenLocations()
    {
        // Columns count bytes from 1; a tab is one column; CRLF ends a line.
        File f = parse_ok("children=4\n"
                          "\tdebug = 3\r\n"
                          "   listen=udp:10.0.0.1:5060\n"
                          "\n"
                          "route {\n"
                          "    if (method==\"INVITE\") { forward(10.0.0.2, 5060); };\n"
                          "\tdrop;\n"
                          "}\n");
        CPPUNIT_ASSERT_EQUAL(size_t{4}, f.stmts.size());
        assert_loc(f.stmts[0].loc, 1, 1);
        assert_loc(f.stmts[0].assign.value.loc, 1, 10);
        assert_loc(f.stmts[1].loc, 2, 2);
        assert_loc(f.stmts[1].assign.value.loc, 2, 10);
        assert_loc(f.stmts[2].loc, 3, 4);
        assert_loc(f.stmts[2].assign.value.loc, 3, 11);
        const Stmt& r = f.stmts[3];
        CPPUNIT_ASSERT(r.kind == Stmt::Kind::Route);
        assert_loc(r.loc, 5, 1);
        CPPUNIT_ASSERT_EQUAL(size_t{2}, r.body.size());
        const Action& a = r.body[0];
        CPPUNIT_ASSERT(a.kind == Action::Kind::If);
        assert_loc(a.loc, 6, 5);
        assert_loc(a.cond->loc, 6, 9);
        assert_loc(a.cond->rhs.loc, 6, 17);
        const Action& fwd = (*a.then_body)[0];
        assert_loc(fwd.loc, 6, 29);
        assert_loc(fwd.args[0].loc, 6, 37);
        assert_loc(fwd.args[1].loc, 6, 47);
        assert_loc(r.body[1].loc, 7, 2);
        CPPUNIT_ASSERT_EQUAL(std::string("t.cfg"), r.loc.file);
        CPPUNIT_ASSERT_EQUAL(std::string("t.cfg:6:29"), fwd.loc.str());
    }

    void testRouteAst()
    {
        File f = parse_ok("route[2] {\n"
                          "  if (!(src_ip==10.0.0.0/8 && msg:len > 100) || proto==TCP) route(1); else { drop; };\n"
                          "  sl_send_reply(\"404\", \"Not Found\");\n"
                          "  break;\n"
                          "}\n");
        const Stmt& r = f.stmts[0];
        CPPUNIT_ASSERT(r.has_key);
        CPPUNIT_ASSERT(r.key.kind == K::Int);
        CPPUNIT_ASSERT_EQUAL(std::string("route"), r.assign.name);
        CPPUNIT_ASSERT_EQUAL(size_t{3}, r.body.size());

        const Expr& c = *r.body[0].cond;
        CPPUNIT_ASSERT(c.kind == Expr::Kind::Or);
        CPPUNIT_ASSERT(c.a->kind == Expr::Kind::Not);
        const Expr& conj = *c.a->a;
        CPPUNIT_ASSERT(conj.kind == Expr::Kind::And);
        CPPUNIT_ASSERT(conj.a->kind == Expr::Kind::Cmp);
        CPPUNIT_ASSERT_EQUAL(std::string("src_ip"), conj.a->name);
        CPPUNIT_ASSERT_EQUAL(std::string("=="), conj.a->op);
        CPPUNIT_ASSERT(conj.a->rhs.kind == K::Net);
        CPPUNIT_ASSERT_EQUAL(std::string("msg:len"), conj.b->name);
        CPPUNIT_ASSERT_EQUAL(std::string(">"), conj.b->op);
        CPPUNIT_ASSERT_EQUAL(100LL, conj.b->rhs.num);
        CPPUNIT_ASSERT_EQUAL(std::string("proto"), c.b->name);
        CPPUNIT_ASSERT(c.b->rhs.kind == K::Ident);

        CPPUNIT_ASSERT_EQUAL(size_t{1}, r.body[0].then_body->size());
        CPPUNIT_ASSERT_EQUAL(std::string("route"), (*r.body[0].then_body)[0].name);
        CPPUNIT_ASSERT(r.body[0].else_body);
        CPPUNIT_ASSERT_EQUAL(std::string("drop"), (*r.body[0].else_body)[0].name);

        const Action& reply = r.body[1];
        CPPUNIT_ASSERT(reply.has_parens);
        CPPUNIT_ASSERT_EQUAL(size_t{2}, reply.args.size());
        CPPUNIT_ASSERT(reply.args[0].kind == K::Str);
        CPPUNIT_ASSERT_EQUAL(std::string("Not Found"), reply.args[1].text);
        CPPUNIT_ASSERT(!r.body[2].has_parens);
        CPPUNIT_ASSERT_EQUAL(std::string("break"), r.body[2].name);

        // && binds tighter than ||: a || b && c is a || (b && c).
        File g = parse_ok("route { if (method==\"A\" || method==\"B\" && uri==myself) drop; }");
        const Expr& e = *g.stmts[0].body[0].cond;
        CPPUNIT_ASSERT(e.kind == Expr::Kind::Or);
        CPPUNIT_ASSERT(e.b->kind == Expr::Kind::And);
        // A call as condition, negated.
        File h = parse_ok("route { if (!mf_process_maxfwd_header(\"10\")) drop; }");
        const Expr& n = *h.stmts[0].body[0].cond;
        CPPUNIT_ASSERT(n.kind == Expr::Kind::Not);
        CPPUNIT_ASSERT(n.a->kind == Expr::Kind::Call);
        CPPUNIT_ASSERT_EQUAL(std::string("mf_process_maxfwd_header"), n.a->name);
        CPPUNIT_ASSERT_EQUAL(size_t{1}, n.a->args.size());
    }

    void testElseIfChain()
    {
        // else if nests: the else body is one If action. A chain 2,000 deep
        // parses and checks without trouble.
        const int n = 2000;
        std::string t = "route {\n";
        for (int i = 0; i < n; i++)
            t += std::string(i ? "  else " : "  ") + "if (src_port==" + std::to_string(i + 1) + ") forward(10.0.0.1, " +
                 std::to_string(i + 1) + ");\n";
        t += "  else drop;\n}\n";
        File f = parse_ok(t);
        const Action* a = &f.stmts[0].body[0];
        int depth = 0;
        while (a->kind == Action::Kind::If && a->else_body && depth < n + 5) {
            depth++;
            CPPUNIT_ASSERT_EQUAL(size_t{1}, a->else_body->size());
            a = &(*a->else_body)[0];
        }
        CPPUNIT_ASSERT_EQUAL(n, depth);
        CPPUNIT_ASSERT_EQUAL(std::string("drop"), a->name);
        CheckResult r = load_config_text(t, "t.cfg");
        CPPUNIT_ASSERT_MESSAGE(first_error(t), r.ok());
    }

    void testTopLevelStatements()
    {
        File f = parse_ok("loadmodule \"/usr/lib/ser/modules/sl.so\"\n"
                          "tls_domain[127.0.0.1:5061] { tls_verify=1 tls_method=tlsv1.2; }\n"
                          "serial \"/dev/ttyS0\" { baudrate=9600; listen=tcp:0.0.0.0:10000; }\n"
                          ";\n"
                          "route[name] { }\n");
        CPPUNIT_ASSERT_EQUAL(size_t{4}, f.stmts.size());
        CPPUNIT_ASSERT(f.stmts[0].kind == Stmt::Kind::LoadModule);
        CPPUNIT_ASSERT_EQUAL(std::string("/usr/lib/ser/modules/sl.so"), f.stmts[0].text);
        // tls_domain is a keyed block in the grammar; the checker gives it meaning.
        const Stmt& d = f.stmts[1];
        CPPUNIT_ASSERT(d.has_key);
        CPPUNIT_ASSERT(d.key.kind == K::Colon);
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1:5061"), d.key.text);
        CPPUNIT_ASSERT_EQUAL(size_t{2}, d.body.size());
        CPPUNIT_ASSERT_EQUAL(std::string("="), d.body[0].name);
        CPPUNIT_ASSERT_EQUAL(std::string("tls_verify"), d.body[0].args[0].text);
        const Stmt& s = f.stmts[2];
        CPPUNIT_ASSERT(s.kind == Stmt::Kind::Serial);
        CPPUNIT_ASSERT_EQUAL(std::string("/dev/ttyS0"), s.text);
        CPPUNIT_ASSERT_EQUAL(size_t{2}, s.body.size());
        CPPUNIT_ASSERT(f.stmts[3].key.kind == K::Ident);
        CPPUNIT_ASSERT_EQUAL(std::string("name"), f.stmts[3].key.text);
    }

    void testSyntaxErrorLocations()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("1:10: unexpected character '@'"), parse_error("children=@"));
        CPPUNIT_ASSERT_EQUAL(std::string("1:5: unexpected byte 0xc3"), parse_error("a=1 \xc3\xa9"));
        std::string e = parse_error("route {\n  forward()\n  drop;\n}\n");
        CPPUNIT_ASSERT_MESSAGE(e, starts_with(e, "3:3: syntax error"));
        e = parse_error("route {\n  if (method==\"X\" { drop; }\n}\n");
        CPPUNIT_ASSERT_MESSAGE(e, starts_with(e, "2:19: syntax error"));
        e = parse_error("listen = \n");
        CPPUNIT_ASSERT_MESSAGE(e, e.find("unexpected end of file") != std::string::npos);
        e = parse_error("a=1 b(\n");
        CPPUNIT_ASSERT_MESSAGE(e, e.find("syntax error, unexpected end of file") != std::string::npos);
    }

    // Bare words after a value belong to its statement (listen=... proxy_protocol);
    // one with no statement before it stands alone. The checker judges both.
    void testWordsAfterValue()
    {
        File f = parse_ok("listen=tcp:127.0.0.1:5060 proxy_protocol x\ndebug=1\n");
        CPPUNIT_ASSERT_EQUAL(size_t{2}, f.stmts.size());
        const Assign& a = f.stmts[0].assign;
        CPPUNIT_ASSERT_EQUAL(std::string("tcp:127.0.0.1:5060"), a.value.text);
        CPPUNIT_ASSERT_EQUAL(size_t{2}, a.words.size());
        CPPUNIT_ASSERT_EQUAL(std::string("proxy_protocol"), a.words[0].text);
        CPPUNIT_ASSERT_EQUAL(27, a.words[0].loc.col);
        CPPUNIT_ASSERT_EQUAL(std::string("x"), a.words[1].text);
        CPPUNIT_ASSERT(f.stmts[1].assign.words.empty());
        f = parse_ok("route { drop; }\nword\n");
        CPPUNIT_ASSERT_EQUAL(size_t{2}, f.stmts.size());
        CPPUNIT_ASSERT(f.stmts[1].kind == Stmt::Kind::Word);
        CPPUNIT_ASSERT_EQUAL(std::string("word"), f.stmts[1].assign.name);
    }

    void testDidYouMean()
    {
        std::vector<std::string_view> names = {"children", "tcp_children", "debug", "fork", "listen"};
        CPPUNIT_ASSERT_EQUAL(std::string("children"), did_you_mean("chidlren", names));
        CPPUNIT_ASSERT_EQUAL(std::string("children"), did_you_mean("CHILDREN", names));
        CPPUNIT_ASSERT_EQUAL(std::string("tcp_children"), did_you_mean("tcp_chilren", names));
        CPPUNIT_ASSERT_EQUAL(std::string("debug"), did_you_mean("debgu", names));
        CPPUNIT_ASSERT_EQUAL(std::string("listen"), did_you_mean("lisen", names));
        CPPUNIT_ASSERT_EQUAL(std::string(), did_you_mean("frobnicate", names));
        CPPUNIT_ASSERT_EQUAL(std::string(), did_you_mean("zzzz", names));
        CPPUNIT_ASSERT_EQUAL(std::string(), did_you_mean("children", {}));
        // The closest wins, not the first close one.
        CPPUNIT_ASSERT_EQUAL(std::string("forward_tcp"),
                             did_you_mean("forward_tcpp", {"forward", "forward_udp", "forward_tcp"}));
        // Through the checker: the parameter tables of each context.
        CPPUNIT_ASSERT_EQUAL(std::string("1:1: unknown parameter \"tls_verfy\"; did you mean \"tls_verify\"?"),
                             first_error("tls_verfy=1\nroute{drop;}"));
        std::string e = first_error("route{drop;}\nserial \"/dev/ttyS0\" { listen=tcp:127.0.0.1:10000; partiy=odd; }");
        CPPUNIT_ASSERT_EQUAL(std::string("2:51: unknown parameter \"partiy\"; did you mean \"parity\"?"), e);
        e = first_error("route { rewrithost(\"a\"); }");
        CPPUNIT_ASSERT_EQUAL(std::string("1:9: unknown function \"rewrithost\"; did you mean \"rewritehost\"?"), e);
    }

    void testDiagnostics()
    {
        CheckResult r = load_config_text("tls_method=tlsv1\nchildren=0\nroute{drop;}\n", "d.cfg");
        CPPUNIT_ASSERT(!r.ok());
        bool warned = false, erred = false;
        for (const auto& d : r.diags) {
            if (d.level == Diag::Level::Warning) {
                warned = true;
                CPPUNIT_ASSERT_MESSAGE(d.str(), starts_with(d.str(), "d.cfg:1:12: warning: tls_method=tlsv1"));
            }
            if (d.level == Diag::Level::Error) {
                erred = true;
                CPPUNIT_ASSERT_EQUAL(std::string("d.cfg:2:10: error: children: 0 is out of range (1..1024)"), d.str());
            }
        }
        CPPUNIT_ASSERT(warned && erred);
        // Warnings and notices alone leave the config usable.
        r = load_config_text("tls_method=tlsv1\ncheck_via=no\n", "w.cfg");
        CPPUNIT_ASSERT(r.ok());
        bool notice = false;
        for (const auto& d : r.diags)
            if (d.level == Diag::Level::Notice && starts_with(d.str(), "w.cfg:2:1: notice: check_via"))
                notice = true;
        CPPUNIT_ASSERT(notice);
        // Diagnostics come in file order, whatever pass found them.
        r = load_config_text("route { route(9); }\nchildren=0\nlisten=udp:1.2.3.4:0\n", "o.cfg");
        int last = 0;
        for (const auto& d : r.diags) {
            CPPUNIT_ASSERT_MESSAGE(d.str(), d.loc.line >= last);
            last = d.loc.line;
        }
        // A syntax error is one Error diagnostic and nothing else.
        r = load_config_text("children=\n", "s.cfg");
        CPPUNIT_ASSERT_EQUAL(size_t{1}, r.diags.size());
        CPPUNIT_ASSERT(r.diags[0].level == Diag::Level::Error);
        CPPUNIT_ASSERT(starts_with(r.diags[0].str(), "s.cfg:1:10: error: syntax error, unexpected end of file"));
    }

    void testMissingFile()
    {
        CheckResult r = load_config("/nonexistent/dir/ser.cfg");
        CPPUNIT_ASSERT(!r.ok());
        CPPUNIT_ASSERT_EQUAL(size_t{1}, r.diags.size());
        CPPUNIT_ASSERT_EQUAL(std::string("/nonexistent/dir/ser.cfg"), r.diags[0].loc.file);
        CPPUNIT_ASSERT_MESSAGE(r.diags[0].msg, r.diags[0].msg.find("cannot read config file") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(r.diags[0].msg, r.diags[0].msg.find("No such file") != std::string::npos);
    }

    void testDirectoryIsNotAConfig()
    {
        // A directory opens like a file on Linux but reads nothing: it must
        // not pass as an empty, valid config.
        CheckResult r = load_config("/");
        CPPUNIT_ASSERT_MESSAGE("ser -c -f / reports no error", !r.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("/"), r.diags[0].loc.file);
    }

    void testTypedValues()
    {
        CheckResult r = load_config_text("children=3\nport=5070\nlisten=tcp:10.0.0.1\nalias=a.example\n"
                                         "tls_certificate=\"c.pem\"\nroute { forward(); }\nroute[1] { drop; }\n",
                                         "dir/x.cfg");
        CPPUNIT_ASSERT(r.ok());
        const ser::Config& c = r.config;
        CPPUNIT_ASSERT_EQUAL(std::string("dir/x.cfg"), c.file);
        CPPUNIT_ASSERT_EQUAL(std::string("dir/"), c.dir);
        CPPUNIT_ASSERT_EQUAL(3, c.children);
        CPPUNIT_ASSERT_EQUAL(uint16_t{5070}, c.port);
        CPPUNIT_ASSERT_EQUAL(size_t{1}, c.listens.size());
        CPPUNIT_ASSERT(c.listens[0].proto == ser::Proto::Tcp);
        CPPUNIT_ASSERT_EQUAL(uint16_t{5070}, c.listens[0].port);
        CPPUNIT_ASSERT_EQUAL(std::string("dir/c.pem"), c.tls.certificate);
        CPPUNIT_ASSERT_EQUAL(std::string("dir/cert.pem"), c.tls.private_key);
        CPPUNIT_ASSERT_EQUAL(size_t{2}, c.routes.size());
        CPPUNIT_ASSERT(c.find_route("") == &c.routes[0]);
        CPPUNIT_ASSERT(c.find_route("1") == &c.routes[1]);
        CPPUNIT_ASSERT(c.find_route("2") == nullptr);
        // Without host resolution a name is kept as written.
        CheckOptions no_dns;
        no_dns.resolve_hosts = false;
        r = load_config_text("listen=udp:sip.example.invalid:5060\nroute{drop;}", "n.cfg", no_dns);
        CPPUNIT_ASSERT(r.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("sip.example.invalid"), r.config.listens[0].addr);
    }

    void testBigConfigIsFast()
    {
        // 10,000+ lines: globals, listeners, aliases, then one big route block
        // of if/else chains and forward lines, plus numbered routes.
        std::string t;
        int lines = 0;
        auto line = [&](const std::string& s) { t += s + "\n"; lines++; };
        line("# generated by test_cfg_parse.cpp");
        line("debug=3");
        line("fork=no");
        line("children=8");
        line("tcp_children=4");
        for (int i = 0; i < 200; i++)
            line("listen=udp:10." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ".1:" +
                 std::to_string(5060 + i));
        for (int i = 0; i < 300; i++)
            line("alias=host" + std::to_string(i) + ".example.com");
        for (int i = 1; i <= 50; i++)
            line("route[" + std::to_string(i) + "] { forward(10.1.0." + std::to_string(i) + ", 5060); }");
        line("route {");
        int i = 0;
        while (lines < 10000) {
            std::string n = std::to_string(i % 50 + 1);
            line("    if (method==\"INVITE\" && src_ip==10.0.0.0/8 && msg:len < 4000) {");
            line("        forward(10.2." + std::to_string(i % 200) + ".1, " + std::to_string(5060 + i % 100) + ");");
            line("    } else if (uri=~\"^sip:" + std::to_string(i) + "@\" || proto==TCP) {");
            line("        route(" + n + ");");
            line("    } else {");
            line("        sl_send_reply(\"404\", \"Not Found\"); break;");
            line("    };");
            line("    forward(uri:host, uri:port);");
            i++;
        }
        line("}");
        CPPUNIT_ASSERT(lines >= 10000);

        std::clock_t start = std::clock();
        CheckResult r = load_config_text(t, "big.cfg");
        double secs = static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC;
        std::cerr << "cfg parse: " << lines << " lines checked in " << secs << " s CPU\n";
        CPPUNIT_ASSERT_MESSAGE(first_error(t), r.ok());
        CPPUNIT_ASSERT_EQUAL(size_t{51}, r.config.routes.size());
        CPPUNIT_ASSERT_EQUAL(size_t{200}, r.config.listens.size());
        CPPUNIT_ASSERT_EQUAL(size_t{300}, r.config.aliases.size());
        CPPUNIT_ASSERT_EQUAL(static_cast<size_t>(2 * i), r.config.routes[0].body.size());
        CPPUNIT_ASSERT_MESSAGE("checking " + std::to_string(lines) + " lines took " + std::to_string(secs) +
                                   " s of CPU (limit 1.0 s)",
                               secs < 1.0);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CfgParseTest);

}  // namespace

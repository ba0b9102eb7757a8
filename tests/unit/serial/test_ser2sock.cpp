// Unit tests of ser --ser2sock (serial/ser2sock_compat): ser2sock.conf
// parsing (sections, comments, unknown keys warned at file:line, bad values),
// the command line and its precedence over the file, ser2sock's defaults,
// -0 (no banner), -e (the TLS files, a client certificate required),
// daemonizing, and how ser's own command line hands over to it.
#include "proc/options.h"
#include "serial/ser2sock_compat.h"

#include <cppunit/extensions/HelperMacros.h>

#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace {

using namespace ser;
using namespace ser::serial::ser2sock;
using Level = cfg::Diag::Level;

// A scratch directory with the conf files of one test, removed at the end.
class Scratch {
public:
    Scratch()
    {
        char tmpl[] = "/tmp/ser-s2s-unit.XXXXXX";
        const char* d = mkdtemp(tmpl);
        CPPUNIT_ASSERT(d != nullptr);
        dir_ = d;
    }
    ~Scratch()
    {
        for (const auto& f : files_)
            unlink(f.c_str());
        rmdir(dir_.c_str());
    }
    std::string write(const std::string& name, const std::string& text)
    {
        std::string p = dir_ + "/" + name;
        std::ofstream(p, std::ios::binary) << text;
        files_.push_back(p);
        return p;
    }
    std::string path(const std::string& name) const { return dir_ + "/" + name; }

private:
    std::string dir_;
    std::vector<std::string> files_;
};

// Paths where nothing is, unless a test puts a conf or CRL there.
Paths nowhere(const Scratch& s)
{
    Paths p;
    p.conf = s.path("absent.conf");
    p.crl = s.path("absent.crl");
    p.pid_file = s.path("ser2sock.pid");
    return p;
}

cfg::CheckOptions no_files()
{
    cfg::CheckOptions o;
    o.check_files = false;
    o.resolve_hosts = false;
    return o;
}

Ser2sockLaunch run(const std::vector<std::string>& args, const Paths& p, cfg::CheckOptions o = no_files())
{
    return translate(args, p, o);
}

// Every diagnostic, one per line, for assertion messages.
std::string all(const Ser2sockLaunch& l)
{
    std::string s;
    for (const auto& d : l.res.diags)
        s += d.str() + "\n";
    return s;
}

// The first diagnostic of `level` whose text holds `part`, or null.
const cfg::Diag* find(const Ser2sockLaunch& l, Level level, const std::string& part)
{
    for (const auto& d : l.res.diags)
        if (d.level == level && d.str().find(part) != std::string::npos)
            return &d;
    return nullptr;
}

size_t count(const Ser2sockLaunch& l, Level level)
{
    size_t n = 0;
    for (const auto& d : l.res.diags)
        n += d.level == level;
    return n;
}

const SerialCfg& the_serial(const Ser2sockLaunch& l)
{
    CPPUNIT_ASSERT_MESSAGE(all(l), l.res.ok());
    CPPUNIT_ASSERT_EQUAL(size_t{1}, l.res.config.serials.size());
    return l.res.config.serials[0];
}

class Ser2sockTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(Ser2sockTest);
    CPPUNIT_TEST(testDefaults);
    CPPUNIT_TEST(testConfFile);
    CPPUNIT_TEST(testSectionsAndOddLines);
    CPPUNIT_TEST(testUnknownKeyWarnsAtFileLine);
    CPPUNIT_TEST(testBadValues);
    CPPUNIT_TEST(testRangesCheckedLikeSerCfg);
    CPPUNIT_TEST(testCommandLineWinsOverConf);
    CPPUNIT_TEST(testOptionSpellings);
    CPPUNIT_TEST(testOptionErrors);
    CPPUNIT_TEST(testRawModeHasNoBanner);
    CPPUNIT_TEST(testTerminalInit);
    CPPUNIT_TEST(testBindAddress);
    CPPUNIT_TEST(testEncrypted);
    CPPUNIT_TEST(testEncryptedNeedsItsFiles);
    CPPUNIT_TEST(testMissingTlsFileIsAnError);
    CPPUNIT_TEST(testDaemonize);
    CPPUNIT_TEST(testConfFileMissing);
    CPPUNIT_TEST(testSerCfgTerminalInit);
    CPPUNIT_TEST(testSerHandsOver);
    CPPUNIT_TEST_SUITE_END();

public:
    void testDefaults()
    {
        Scratch sc;
        auto l = run({"-s", "/dev/ttyS9"}, nowhere(sc));
        CPPUNIT_ASSERT_EQUAL(-1, l.exit_code);
        const SerialCfg& s = the_serial(l);
        CPPUNIT_ASSERT_EQUAL(std::string("/dev/ttyS9"), s.device);
        CPPUNIT_ASSERT_EQUAL(size_t{1}, s.listens.size());
        CPPUNIT_ASSERT(!s.listens[0].tls);
        CPPUNIT_ASSERT_EQUAL(std::string("0.0.0.0"), s.listens[0].addr);
        CPPUNIT_ASSERT_EQUAL(uint16_t{10000}, s.listens[0].port);
        CPPUNIT_ASSERT(s.connects.empty());
        CPPUNIT_ASSERT_EQUAL(9600, s.baudrate);
        CPPUNIT_ASSERT(s.banner == Banner::Ser2sock);
        CPPUNIT_ASSERT(!s.terminal_init);
        CPPUNIT_ASSERT(!s.keep_clients);
        CPPUNIT_ASSERT_EQUAL(5000, s.reopen_delay);
        // No SIP: a bridge alone.
        CPPUNIT_ASSERT(l.res.config.listens.empty());
        CPPUNIT_ASSERT(l.res.config.routes.empty());
        // ser2sock without -d: foreground, logging to stderr, no pid file.
        CPPUNIT_ASSERT(l.opt.foreground);
        CPPUNIT_ASSERT(l.opt.log_stderr);
        CPPUNIT_ASSERT_EQUAL(std::string(), l.opt.pid_file);
        CPPUNIT_ASSERT_EQUAL(3, l.res.config.debug);
        CPPUNIT_ASSERT_EQUAL(std::string("LOG_USER"), l.res.config.log_facility);
        CPPUNIT_ASSERT(l.quiet_notices);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(all(l), size_t{0}, count(l, Level::Warning));
        CPPUNIT_ASSERT_MESSAGE(all(l), find(l, Level::Notice, "absent.conf") != nullptr);
    }

    void testConfFile()
    {
        Scratch sc;
        Paths p = nowhere(sc);
        p.conf = sc.write("ser2sock.conf",
                          "# ser2sock sample configuration\r\n"
                          "#\r\n"
                          "\r\n"
                          "[ser2sock]\r\n"
                          "; a comment of the other kind\r\n"
                          "daemonize = 0\r\n"
                          "device=/dev/ttyAMA0\r\n"
                          "  baudrate   =   115200\r\n"
                          "port = 10001   # not the default\r\n"
                          "bind_ip = \"127.0.0.1\"\r\n"
                          "preserve_connections = 1\r\n"
                          "device_open_delay = 250\r\n"
                          "send_terminal_init = 1\r\n"
                          "raw_device_mode = 0\r\n"
                          "#encrypted = 1\r\n");
        auto l = run({}, p);
        const SerialCfg& s = the_serial(l);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(all(l), size_t{0}, count(l, Level::Warning));
        CPPUNIT_ASSERT_EQUAL(std::string("/dev/ttyAMA0"), s.device);
        CPPUNIT_ASSERT_EQUAL(115200, s.baudrate);
        CPPUNIT_ASSERT_EQUAL(uint16_t{10001}, s.listens[0].port);
        CPPUNIT_ASSERT_EQUAL(std::string("127.0.0.1"), s.listens[0].addr);
        CPPUNIT_ASSERT(!s.listens[0].tls);
        CPPUNIT_ASSERT(s.keep_clients);
        CPPUNIT_ASSERT_EQUAL(250, s.reopen_delay);
        CPPUNIT_ASSERT(s.terminal_init);
        CPPUNIT_ASSERT(s.banner == Banner::Ser2sock);
        // The serial block is placed at the conf line that named the device.
        CPPUNIT_ASSERT_EQUAL(p.conf, s.loc.file);
        CPPUNIT_ASSERT_EQUAL(7, s.loc.line);
        CPPUNIT_ASSERT_EQUAL(p.conf, l.res.config.file);
    }

    void testSectionsAndOddLines()
    {
        cfg::Diags d;
        Settings s;
        read_conf("[ser2sock]\nport = 1\n[other]\nbaudrate = 2400\nnot a setting\nssl_key =\n[broken\n", "x.conf", s,
                  d);
        auto diags = d.take();
        // ser2sock reads keys in any section: so does ser, with a warning.
        CPPUNIT_ASSERT_EQUAL(std::string("2400"), s.get("baudrate")->value);
        CPPUNIT_ASSERT_EQUAL(std::string("1"), s.get("port")->value);
        CPPUNIT_ASSERT(s.get("ssl_key") == nullptr);
        std::vector<std::string> got;
        for (const auto& x : diags)
            got.push_back(x.str());
        auto has = [&](const std::string& part) {
            for (const auto& g : got)
                if (g.find(part) != std::string::npos)
                    return true;
            return false;
        };
        CPPUNIT_ASSERT(has("x.conf:3:1: warning: section [other]"));
        CPPUNIT_ASSERT(has("x.conf:5:1: warning: \"not a setting\" is not key = value"));
        CPPUNIT_ASSERT(has("x.conf:6:1: warning: ssl_key has no value"));
        CPPUNIT_ASSERT(has("x.conf:7:1: warning: section line without ']'"));
        CPPUNIT_ASSERT(!has("x.conf:1:"));
        // Empty text and a last line without a newline.
        Settings s2;
        cfg::Diags d2;
        read_conf("", "y.conf", s2, d2);
        read_conf("device = /dev/ttyS1", "y.conf", s2, d2);
        CPPUNIT_ASSERT_EQUAL(std::string("/dev/ttyS1"), s2.get("device")->value);
        CPPUNIT_ASSERT(d2.take().empty());
    }

    void testUnknownKeyWarnsAtFileLine()
    {
        Scratch sc;
        Paths p = nowhere(sc);
        p.conf = sc.write("s.conf", "[ser2sock]\ndevice = /dev/ttyS2\nprot = 10001\nPort = 3\nlisten_backlog = 5\n");
        auto l = run({}, p);
        CPPUNIT_ASSERT_MESSAGE(all(l), l.res.ok());   // warned, not refused
        const cfg::Diag* w = find(l, Level::Warning, "\"prot\"");
        CPPUNIT_ASSERT_MESSAGE(all(l), w != nullptr);
        CPPUNIT_ASSERT_EQUAL(p.conf, w->loc.file);
        CPPUNIT_ASSERT_EQUAL(3, w->loc.line);
        CPPUNIT_ASSERT_MESSAGE(w->str(), w->str().find(p.conf + ":3:1: warning: unknown ser2sock key") == 0);
        CPPUNIT_ASSERT_MESSAGE(w->str(), w->msg.find("did you mean \"port\"") != std::string::npos);
        // Keys are case-sensitive, as in ser2sock.
        w = find(l, Level::Warning, "\"Port\"");
        CPPUNIT_ASSERT(w != nullptr);
        CPPUNIT_ASSERT_EQUAL(4, w->loc.line);
        CPPUNIT_ASSERT(find(l, Level::Warning, "\"listen_backlog\"") != nullptr);
        CPPUNIT_ASSERT_EQUAL(uint16_t{10000}, the_serial(l).listens[0].port);
    }

    void testBadValues()
    {
        Scratch sc;
        Paths p = nowhere(sc);
        p.conf = sc.write("bad.conf", "device = /dev/ttyS3\nport = ten\nencrypted = yes\npreserve_connections = on\n");
        auto l = run({}, p);
        CPPUNIT_ASSERT(!l.res.ok());
        const cfg::Diag* e = find(l, Level::Error, "port = ten");
        CPPUNIT_ASSERT_MESSAGE(all(l), e != nullptr);
        CPPUNIT_ASSERT_EQUAL(2, e->loc.line);
        CPPUNIT_ASSERT_MESSAGE(e->msg, e->msg.find("is not a number") != std::string::npos);
        e = find(l, Level::Error, "encrypted = yes");
        CPPUNIT_ASSERT_MESSAGE(all(l), e != nullptr);
        CPPUNIT_ASSERT_EQUAL(3, e->loc.line);
        CPPUNIT_ASSERT_MESSAGE(e->msg, e->msg.find("expected 0 or 1") != std::string::npos);
        CPPUNIT_ASSERT(find(l, Level::Error, "preserve_connections = on") != nullptr);

        // A bad option value is reported at the option.
        l = run({"-s", "/dev/ttyS3", "-w", "soon"}, nowhere(sc));
        e = find(l, Level::Error, "is not a number");
        CPPUNIT_ASSERT_MESSAGE(all(l), e != nullptr);
        CPPUNIT_ASSERT_EQUAL(std::string("command line: -w soon"), e->loc.str());
    }

    void testRangesCheckedLikeSerCfg()
    {
        // Ranges are the ser.cfg checker's: its message, with the ser2sock key in front.
        Scratch sc;
        Paths p = nowhere(sc);
        p.conf = sc.write("r.conf", "device = /dev/ttyS4\nport = 70000\nbaudrate = 10\ndevice_open_delay = 9999999\n");
        auto l = run({}, p);
        CPPUNIT_ASSERT(!l.res.ok());
        const cfg::Diag* e = find(l, Level::Error, "port 70000 is out of range");
        CPPUNIT_ASSERT_MESSAGE(all(l), e != nullptr);
        CPPUNIT_ASSERT_EQUAL(2, e->loc.line);
        CPPUNIT_ASSERT_MESSAGE(e->msg, e->msg.find("port: ") == 0);
        e = find(l, Level::Error, "baudrate: 10 is out of range");
        CPPUNIT_ASSERT_MESSAGE(all(l), e != nullptr);
        CPPUNIT_ASSERT_EQUAL(3, e->loc.line);
        e = find(l, Level::Error, "device_open_delay: reopen_delay: 9999999 is out of range");
        CPPUNIT_ASSERT_MESSAGE(all(l), e != nullptr);
        CPPUNIT_ASSERT_EQUAL(4, e->loc.line);

        l = run({"-s", "/dev/ttyS4", "-p", "0"}, nowhere(sc));
        e = find(l, Level::Error, "port 0 is out of range");
        CPPUNIT_ASSERT_MESSAGE(all(l), e != nullptr);
        CPPUNIT_ASSERT_EQUAL(std::string("command line: -p 0"), e->loc.str());

        // A rate ser2sock did not know is set, with a warning that ser2sock ran 9600.
        l = run({"-s", "/dev/ttyS4", "-b", "250000"}, nowhere(sc));
        CPPUNIT_ASSERT_EQUAL(250000, the_serial(l).baudrate);
        CPPUNIT_ASSERT_MESSAGE(all(l), find(l, Level::Warning, "would have run the device at 9600") != nullptr);
    }

    void testCommandLineWinsOverConf()
    {
        Scratch sc;
        Paths p = nowhere(sc);
        p.conf = sc.write("c.conf", "device = /dev/ttyS5\nport = 10001\nbaudrate = 9600\npreserve_connections = 0\n");
        auto l = run({"-p", "10002", "-s", "/dev/ttyS6", "-b", "9600", "-c"}, p);
        const SerialCfg& s = the_serial(l);
        CPPUNIT_ASSERT_EQUAL(uint16_t{10002}, s.listens[0].port);
        CPPUNIT_ASSERT_EQUAL(std::string("/dev/ttyS6"), s.device);
        CPPUNIT_ASSERT(s.keep_clients);
        // Each override of a different value is said once; an equal one is not.
        const cfg::Diag* w = find(l, Level::Warning, "wins over port = 10001 at " + p.conf + ":2:1");
        CPPUNIT_ASSERT_MESSAGE(all(l), w != nullptr);
        CPPUNIT_ASSERT_EQUAL(std::string("command line: -p 10002"), w->loc.str());
        CPPUNIT_ASSERT(find(l, Level::Warning, "wins over device = /dev/ttyS5") != nullptr);
        CPPUNIT_ASSERT(find(l, Level::Warning, "wins over preserve_connections = 0") != nullptr);
        CPPUNIT_ASSERT(find(l, Level::Warning, "baudrate") == nullptr);
        CPPUNIT_ASSERT_EQUAL_MESSAGE(all(l), size_t{3}, count(l, Level::Warning));
    }

    void testOptionSpellings()
    {
        Scratch sc;
        // -pVALUE and -p VALUE, as ser2sock took both.
        auto a = run({"-p10003", "-s/dev/ttyS7", "-w", "100", "-g", "1"}, nowhere(sc));
        CPPUNIT_ASSERT_EQUAL(uint16_t{10003}, the_serial(a).listens[0].port);
        CPPUNIT_ASSERT_EQUAL(std::string("/dev/ttyS7"), the_serial(a).device);
        CPPUNIT_ASSERT_EQUAL(100, the_serial(a).reopen_delay);
        CPPUNIT_ASSERT(!a.quiet_notices);   // -g 1 shows notices
        CPPUNIT_ASSERT_EQUAL(3, a.res.config.debug);
        auto b = run({"-s", "/dev/ttyS7", "-g3"}, nowhere(sc));
        CPPUNIT_ASSERT_EQUAL(4, b.res.config.debug);
        CPPUNIT_ASSERT_MESSAGE(all(b), find(b, Level::Warning, "never the device's bytes") != nullptr);
        auto h = run({"-help"}, nowhere(sc));
        CPPUNIT_ASSERT_EQUAL(0, h.exit_code);
        CPPUNIT_ASSERT(h.message.find("-s DEV") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(h.message, run({"-s", "x", "-h"}, nowhere(sc)).message);
    }

    void testOptionErrors()
    {
        Scratch sc;
        Paths p = nowhere(sc);
        auto refused = [&](const std::vector<std::string>& args, const std::string& part) {
            auto l = run(args, p);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(l.message, 2, l.exit_code);
            CPPUNIT_ASSERT_MESSAGE(l.message, l.message.find(part) != std::string::npos);
        };
        refused({"-x"}, "unknown option -x");
        refused({"-s", "/dev/ttyS1", "-m", "64"}, "unknown option -m");   // ser's flags are not ser2sock's
        refused({"-dc"}, "-dc: one option per argument");
        refused({"-p"}, "option -p needs a value");
        refused({"/dev/ttyS1"}, "unexpected argument \"/dev/ttyS1\"");
        refused({"-g", "7"}, "not a debug level 0..3");
        refused({"--ser2sock"}, "unknown option --ser2sock");

        // No device at all, or a -f that cannot be read: errors, not usage.
        auto l = run({}, p);
        CPPUNIT_ASSERT_EQUAL(-1, l.exit_code);
        CPPUNIT_ASSERT_MESSAGE(all(l), find(l, Level::Error, "no serial device") != nullptr);
        l = run({"-s", "/dev/ttyS1", "-f", sc.path("missing.conf")}, p);
        const cfg::Diag* e = find(l, Level::Error, "cannot read " + sc.path("missing.conf"));
        CPPUNIT_ASSERT_MESSAGE(all(l), e != nullptr);
        CPPUNIT_ASSERT_EQUAL(std::string("command line: -f ") + sc.path("missing.conf"), e->loc.str());
    }

    void testRawModeHasNoBanner()
    {
        Scratch sc;
        CPPUNIT_ASSERT(the_serial(run({"-s", "/dev/ttyS1", "-0"}, nowhere(sc))).banner == Banner::None);
        Paths p = nowhere(sc);
        p.conf = sc.write("raw.conf", "device = /dev/ttyS1\nraw_device_mode = 1\n");
        CPPUNIT_ASSERT(the_serial(run({}, p)).banner == Banner::None);
        p.conf = sc.write("noraw.conf", "device = /dev/ttyS1\nraw_device_mode = 0\n");
        CPPUNIT_ASSERT(the_serial(run({}, p)).banner == Banner::Ser2sock);
        CPPUNIT_ASSERT(the_serial(run({"-0"}, p)).banner == Banner::None);
    }

    void testTerminalInit()
    {
        Scratch sc;
        CPPUNIT_ASSERT(the_serial(run({"-s", "/dev/ttyS1", "-t"}, nowhere(sc))).terminal_init);
        // ser2sock sends it only along with its status lines.
        auto l = run({"-s", "/dev/ttyS1", "-t", "-0", "-g", "1"}, nowhere(sc));
        CPPUNIT_ASSERT(!the_serial(l).terminal_init);
        CPPUNIT_ASSERT_MESSAGE(all(l), find(l, Level::Notice, "no effect with raw_device_mode") != nullptr);
    }

    void testBindAddress()
    {
        Scratch sc;
        auto l6 = run({"-s", "/dev/ttyS1", "-i", "::1"}, nowhere(sc));   // kept: s6 points into it
        const SerialCfg& s6 = the_serial(l6);
        CPPUNIT_ASSERT_EQUAL(std::string("::1"), s6.listens[0].addr);
        CPPUNIT_ASSERT_EQUAL(AF_INET6, s6.listens[0].family);
        auto l = run({"-s", "/dev/ttyS1", "-i", "localhost"}, nowhere(sc));
        CPPUNIT_ASSERT_MESSAGE(all(l), find(l, Level::Error, "\"localhost\" is not an IP address") != nullptr);
    }

    void testEncrypted()
    {
        Scratch sc;
        Paths p = nowhere(sc);
        p.conf = sc.write("tls.conf",
                          "device = /dev/ttyS1\n"
                          "ca_certificate = /etc/ser2sock/certs/ca.pem\n"
                          "ssl_certificate = certs/server.pem\n"
                          "ssl_key = /etc/ser2sock/certs/server.key\n");
        auto l = run({"-e", "-p", "10004"}, p);
        if (!cfg::tls_compiled_in()) {   // -e is the checker's TLS: refused in a build without it
            CPPUNIT_ASSERT_MESSAGE(all(l), find(l, Level::Error, "built without it") != nullptr);
            return;
        }
        const SerialCfg& s = the_serial(l);
        CPPUNIT_ASSERT(s.listens[0].tls);
        CPPUNIT_ASSERT_EQUAL(uint16_t{10004}, s.listens[0].port);
        const TlsParams& t = l.res.config.tls;
        CPPUNIT_ASSERT_EQUAL(std::string("/etc/ser2sock/certs/ca.pem"), t.ca_list);
        CPPUNIT_ASSERT_EQUAL(std::string("/etc/ser2sock/certs/server.key"), t.private_key);
        // A relative path is taken from where ser was started, as ser2sock did.
        char cwd[4096];
        CPPUNIT_ASSERT(getcwd(cwd, sizeof cwd) != nullptr);
        CPPUNIT_ASSERT_EQUAL(std::string(cwd) + "/certs/server.pem", t.certificate);
        CPPUNIT_ASSERT(t.verify);
        CPPUNIT_ASSERT(t.require_certificate);
        CPPUNIT_ASSERT_EQUAL(std::string(), t.crl);   // ser2sock's default CRL is not there
        CPPUNIT_ASSERT(l.res.config.tls_domains.empty());

        // ser2sock's default CRL is used when it is there; ssl_crl names another.
        p.crl = sc.write("ser2sock.crl", "");
        CPPUNIT_ASSERT_EQUAL(p.crl, run({"-e"}, p).res.config.tls.crl);
        p.conf = sc.write("tls2.conf",
                          "device = /dev/ttyS1\nencrypted = 1\nca_certificate = /c/ca.pem\n"
                          "ssl_certificate = /c/s.pem\nssl_key = /c/s.key\nssl_crl = /c/crl.pem\n");
        l = run({}, p);
        CPPUNIT_ASSERT_MESSAGE(all(l), l.res.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("/c/crl.pem"), l.res.config.tls.crl);
        CPPUNIT_ASSERT(the_serial(l).listens[0].tls);

        // Without encryption the TLS files are unused, and a notice says so.
        p.conf = sc.write("plain.conf", "device = /dev/ttyS1\nssl_key = /c/s.key\n");
        l = run({"-g", "1"}, p);
        CPPUNIT_ASSERT(!the_serial(l).listens[0].tls);
        CPPUNIT_ASSERT_MESSAGE(all(l), find(l, Level::Notice, "ssl_key is used only with encrypted") != nullptr);
    }

    void testEncryptedNeedsItsFiles()
    {
        Scratch sc;
        Paths p = nowhere(sc);
        p.conf = sc.write("half.conf", "device = /dev/ttyS1\nencrypted = 1\nssl_certificate = /c/s.pem\n");
        auto l = run({}, p);
        CPPUNIT_ASSERT(!l.res.ok());
        const cfg::Diag* e = find(l, Level::Error, "needs ssl_key = FILE");
        CPPUNIT_ASSERT_MESSAGE(all(l), e != nullptr);
        CPPUNIT_ASSERT_EQUAL(2, e->loc.line);
        CPPUNIT_ASSERT(find(l, Level::Error, "needs ca_certificate = FILE") != nullptr);
        CPPUNIT_ASSERT(find(l, Level::Error, "needs ssl_certificate") == nullptr);
        // -e on the command line: the same, at the option.
        l = run({"-s", "/dev/ttyS1", "-e"}, nowhere(sc));
        e = find(l, Level::Error, "needs ssl_certificate = FILE");
        CPPUNIT_ASSERT_MESSAGE(all(l), e != nullptr);
        CPPUNIT_ASSERT_EQUAL(std::string("command line: -e"), e->loc.str());
    }

    void testMissingTlsFileIsAnError()
    {
        // The files are checked as a ser.cfg's are, at the conf line naming them.
        Scratch sc;
        Paths p = nowhere(sc);
        p.conf = sc.write("m.conf", "device = /dev/ttyS1\nencrypted = 1\nca_certificate = " + sc.path("no-ca.pem") +
                                        "\nssl_certificate = " + sc.path("no-cert.pem") +
                                        "\nssl_key = " + sc.path("no-key.pem") + "\n");
        cfg::CheckOptions o;
        o.resolve_hosts = false;
        auto l = run({}, p, o);
        CPPUNIT_ASSERT(!l.res.ok());
        if (!cfg::tls_compiled_in()) {
            CPPUNIT_ASSERT_MESSAGE(all(l), find(l, Level::Error, "built without it") != nullptr);
            return;
        }
        const cfg::Diag* e = find(l, Level::Error, "no-cert.pem\" cannot be read");
        CPPUNIT_ASSERT_MESSAGE(all(l), e != nullptr);
        CPPUNIT_ASSERT_EQUAL(p.conf, e->loc.file);
        CPPUNIT_ASSERT_EQUAL(4, e->loc.line);
        CPPUNIT_ASSERT_MESSAGE(e->msg, e->msg.find("ssl_certificate: ") == 0);
    }

    void testDaemonize()
    {
        Scratch sc;
        Paths p = nowhere(sc);
        auto l = run({"-s", "/dev/ttyS1", "-d"}, p);
        CPPUNIT_ASSERT(!l.opt.foreground);
        CPPUNIT_ASSERT(!l.opt.log_stderr);
        CPPUNIT_ASSERT_EQUAL(p.pid_file, l.opt.pid_file);
        l = run({"-s", "/dev/ttyS1", "-d", "-P", "/run/s2s.pid"}, p);
        CPPUNIT_ASSERT_EQUAL(std::string("/run/s2s.pid"), l.opt.pid_file);
        // ser's -D and -E keep a daemonizing conf in the foreground, on stderr.
        p.conf = sc.write("d.conf", "device = /dev/ttyS1\ndaemonize = 1\npid_file = /run/x.pid\n");
        l = run({"-D", "-E", "-g", "1"}, p);
        CPPUNIT_ASSERT(l.opt.foreground);
        CPPUNIT_ASSERT(l.opt.log_stderr);
        CPPUNIT_ASSERT_EQUAL(std::string(), l.opt.pid_file);
        CPPUNIT_ASSERT_MESSAGE(all(l), find(l, Level::Notice, "only when ser daemonizes") != nullptr);
        l = run({"-D"}, p);
        CPPUNIT_ASSERT(l.opt.foreground);
        CPPUNIT_ASSERT(!l.opt.log_stderr);   // daemonize = 1 logs to syslog unless -E
        l = run({}, p);
        CPPUNIT_ASSERT(!l.opt.foreground);
        CPPUNIT_ASSERT_EQUAL(std::string("/run/x.pid"), l.opt.pid_file);
    }

    void testConfFileMissing()
    {
        // The default conf is optional (ser2sock ran on its options alone); -f is not.
        Scratch sc;
        auto l = run({"-s", "/dev/ttyS1"}, nowhere(sc));
        CPPUNIT_ASSERT(l.res.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("ser --ser2sock"), l.res.config.file);
        l = run({"-s", "/dev/ttyS1", "-f", sc.path("absent.conf")}, nowhere(sc));
        CPPUNIT_ASSERT(!l.res.ok());
    }

    void testSerCfgTerminalInit()
    {
        auto r = cfg::load_config_text("serial \"/dev/ttyS1\" { listen=tcp:127.0.0.1:10005; terminal_init=yes; }",
                                       "t.cfg", no_files());
        CPPUNIT_ASSERT(r.ok());
        CPPUNIT_ASSERT(r.config.serials[0].terminal_init);
        r = cfg::load_config_text("serial \"/dev/ttyS1\" { listen=tcp:127.0.0.1:10005; }", "t.cfg", no_files());
        CPPUNIT_ASSERT(!r.config.serials[0].terminal_init);
    }

    void testSerHandsOver()
    {
        std::string err;
        auto opts = [&](std::vector<const char*> v) {
            std::vector<char*> argv;
            for (const char* a : v)
                argv.push_back(const_cast<char*>(a));
            return parse_options(static_cast<int>(argv.size()), argv.data(), err);
        };
        auto o = opts({"ser", "--ser2sock", "-p", "1", "-c"});
        CPPUNIT_ASSERT(o && o->ser2sock);
        CPPUNIT_ASSERT_EQUAL(2, o->ser2sock_argi);
        CPPUNIT_ASSERT(!o->check_only);   // -c is ser2sock's here
        o = opts({"/usr/local/bin/ser2sock", "-p", "1"});
        CPPUNIT_ASSERT(o && o->ser2sock);
        CPPUNIT_ASSERT_EQUAL(1, o->ser2sock_argi);
        o = opts({"ser", "-D", "--ser2sock"});
        CPPUNIT_ASSERT(!o);
        CPPUNIT_ASSERT_MESSAGE(err, err.find("first argument") != std::string::npos);
        o = opts({"ser", "-D"});
        CPPUNIT_ASSERT(o && !o->ser2sock);
    }
};

}  // namespace

CPPUNIT_TEST_SUITE_REGISTRATION(Ser2sockTest);

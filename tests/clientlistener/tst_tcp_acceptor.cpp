#include "tcp_acceptor.h"

#include <QDir>
#include <QElapsedTimer>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTest>

#include <cerrno>
#include <memory>
#include <vector>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

using namespace xbnc;
using namespace std::chrono_literals;

namespace {

constexpr int kTimeoutMs = 5000;

// Lowers this process's descriptor limit so that only `room` more descriptors can be opened,
// and puts it back when destroyed.
class DescriptorLimit
{
public:
    bool leaveRoomFor(int room)
    {
        if (::getrlimit(RLIMIT_NOFILE, &original_) != 0)
            return false;
        int highest = 0;
        for (const QString &name : QDir(QStringLiteral("/proc/self/fd")).entryList(QDir::Files))
            highest = std::max(highest, name.toInt());
        // Fill the holes below the highest open descriptor, so the next ones come above it.
        for (;;) {
            const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
            if (fd < 0)
                return false;
            if (fd > highest) {
                ::close(fd);
                break;
            }
            fillers_.push_back(fd);
        }
        rlimit lowered = original_;
        lowered.rlim_cur = rlim_t(highest + 1 + room);
        lowered_ = ::setrlimit(RLIMIT_NOFILE, &lowered) == 0;
        return lowered_;
    }

    void restore()
    {
        if (lowered_)
            (void)::setrlimit(RLIMIT_NOFILE, &original_);
        lowered_ = false;
        for (const int fd : fillers_)
            ::close(fd);
        fillers_.clear();
    }

    ~DescriptorLimit() { restore(); }

private:
    rlimit original_{};
    bool lowered_ = false;
    std::vector<int> fillers_;
};

} // namespace

class TestTcpAcceptor : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void servesAgainOnceDescriptorsAreFree();
};

void TestTcpAcceptor::servesAgainOnceDescriptorsAreFree()
{
    TcpAcceptor acceptor({50ms, 200ms});
    QVERIFY(acceptor.listen(QHostAddress::LocalHost, 0));
    std::vector<std::unique_ptr<QTcpSocket>> served;
    connect(&acceptor, &TcpAcceptor::accepted, this, [&](qintptr descriptor) {
        auto socket = std::make_unique<QTcpSocket>();
        socket->setSocketDescriptor(descriptor);
        socket->write("hello\n");
        served.push_back(std::move(socket));
    });
    QSignalSpy failed(&acceptor, &TcpAcceptor::acceptFailed);
    // One warning however often it fails, not one per attempt.
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral(
                                           "^port \\d+: accept\\(\\) failed: Too many open "
                                           "files \\(1 time\\(s\\) since the last warning\\)")));
    QTest::failOnWarning(QRegularExpression(QStringLiteral("accept\\(\\) failed")));

    DescriptorLimit limit;
    // The client's socket takes the last descriptor the process may open, so the listener's
    // accept() fails with EMFILE.
    QVERIFY(limit.leaveRoomFor(1));
    QTcpSocket client;
    client.connectToHost(QHostAddress::LocalHost, acceptor.serverPort());
    QVERIFY(failed.wait(kTimeoutMs));
    QCOMPARE(failed.first().first().toInt(), EMFILE);

    // It backs off (50, 100, 200 ms) instead of retrying in a loop that burns a core.
    QElapsedTimer window;
    window.start();
    QTRY_VERIFY_WITH_TIMEOUT(failed.size() >= 4, kTimeoutMs);
    QVERIFY2(window.elapsed() >= 300, qPrintable(QString::number(window.elapsed())));
    QVERIFY(served.empty());

    limit.restore();
    QTRY_COMPARE_WITH_TIMEOUT(served.size(), size_t(1), kTimeoutMs);
    QTRY_VERIFY_WITH_TIMEOUT(client.canReadLine(), kTimeoutMs);
    QCOMPARE(client.readLine(), QByteArray("hello\n"));
}

QTEST_GUILESS_MAIN(TestTcpAcceptor)
#include "tst_tcp_acceptor.moc"

// FastLogin (XEP-0484 HT-SHA-256-NONE): tokens issued per device, checked, rotated, expired and
// replay-checked, over an in-memory FastTokens and a clock the test moves.
#include "fast_login.h"

#include <QCryptographicHash>
#include <QMessageAuthenticationCode>
#include <QtTest>

#include <map>

using namespace xbnc;

namespace {

class MemoryTokens final : public FastTokens
{
public:
    std::vector<FastToken> tokens(const QString &device) const override
    {
        std::vector<FastToken> found;
        for (const auto &[key, token] : byKey)
            if (token.device == device)
                found.push_back(token);
        return found;
    }
    bool put(const FastToken &token) override
    {
        byKey[token.key] = token;
        return true;
    }
    bool remove(const QByteArray &key) override
    {
        byKey.erase(key);
        return true;
    }
    int removeAll() override
    {
        const int n = int(byKey.size());
        byKey.clear();
        return n;
    }
    std::map<QByteArray, FastToken> byKey;
};

QByteArray hmac(const QString &token, QByteArrayView label)
{
    return QMessageAuthenticationCode::hash(label.toByteArray(), token.toUtf8(),
                                            QCryptographicHash::Sha256);
}

// What a client sends: "alice NUL HMAC(token, 'Initiator')".
QByteArray message(const QString &token)
{
    return "alice" + QByteArray(1, '\0') + hmac(token, "Initiator");
}

const QString kPhone = FastLogin::deviceName(QStringLiteral("phone-uuid"));
constexpr std::chrono::seconds kLifetime{1000};

} // namespace

class TestFastLogin : public QObject
{
    Q_OBJECT

private slots:
    void init()
    {
        store_ = MemoryTokens();
        now_ = QDateTime(QDate(2026, 12, 3), QTime(8, 0), Qt::UTC);
        login_ = std::make_unique<FastLogin>(store_, kLifetime, [this] { return now_; });
    }

    void deviceNamesHideTheUserAgent()
    {
        QCOMPARE(kPhone.size(), 3 + 16);
        QVERIFY(kPhone.startsWith(u"ua-"));
        QCOMPARE(kPhone, FastLogin::deviceName(QStringLiteral("phone-uuid")));
        QVERIFY(kPhone != FastLogin::deviceName(QStringLiteral("laptop-uuid")));
        QVERIFY(!kPhone.contains(u"phone"));
    }

    void onlyTheHashIsStored()
    {
        const auto issued = login_->issue(kPhone);
        QVERIFY(issued);
        // Longer than SHA-256's block: HMAC keyed with its hash is HMAC keyed with it.
        QVERIFY(issued->token.toUtf8().size() > 64);
        QCOMPARE(issued->expires, now_.addSecs(kLifetime.count()));
        QCOMPARE(store_.byKey.size(), std::size_t(1));
        const FastToken &stored = store_.byKey.begin()->second;
        QCOMPARE(stored.key,
                 QCryptographicHash::hash(issued->token.toUtf8(), QCryptographicHash::Sha256));
        QCOMPARE(stored.device, kPhone);
    }

    void theRightTokenLogsIn()
    {
        const QString token = login_->issue(kPhone)->token;
        const FastLogin::Verdict verdict =
            login_->verify(kPhone, QStringLiteral("Alice"), message(token), {}, 1, false);
        QVERIFY2(verdict.accepted, qPrintable(verdict.reason));
        QCOMPARE(verdict.responderProof, hmac(token, "Responder"));
        QVERIFY(!verdict.rotate);
    }

    void wrongTokensUsersAndDevicesAreRefused()
    {
        const QString token = login_->issue(kPhone)->token;
        QVERIFY(!login_
                     ->verify(kPhone, QStringLiteral("alice"), message(token + QStringLiteral("x")),
                              {}, 1, false)
                     .accepted);
        QVERIFY(!login_
                     ->verify(FastLogin::deviceName(QStringLiteral("other")),
                              QStringLiteral("alice"), message(token), {}, 1, false)
                     .accepted);
        QVERIFY(
            !login_->verify(kPhone, QStringLiteral("bob"), message(token), {}, 1, false).accepted);
        // Channel-binding data is part of the proof (the seam for -ENDP/-EXPR).
        QVERIFY(!login_->verify(kPhone, QStringLiteral("alice"), message(token), "cb", 1, false)
                     .accepted);
        QVERIFY(!login_->verify(kPhone, QStringLiteral("alice"), QByteArray("no-nul"), {}, 1, false)
                     .accepted);
    }

    void aCountNotAboveTheLastIsAReplay()
    {
        const QString token = login_->issue(kPhone)->token;
        QVERIFY(
            login_->verify(kPhone, QStringLiteral("alice"), message(token), {}, 3, false).accepted);
        QVERIFY(!login_->verify(kPhone, QStringLiteral("alice"), message(token), {}, 3, false)
                     .accepted);
        QVERIFY(!login_->verify(kPhone, QStringLiteral("alice"), message(token), {}, 2, false)
                     .accepted);
        QVERIFY(!login_->verify(kPhone, QStringLiteral("alice"), message(token), {}, -1, false)
                     .accepted);
        QVERIFY(
            login_->verify(kPhone, QStringLiteral("alice"), message(token), {}, 4, false).accepted);
    }

    // Some clients send no count at all: they keep working, without the replay check.
    void noCountWorksUntilACountWasSeen()
    {
        const QString token = login_->issue(kPhone)->token;
        QVERIFY(login_->verify(kPhone, QStringLiteral("alice"), message(token), {}, -1, false)
                    .accepted);
        QVERIFY(login_->verify(kPhone, QStringLiteral("alice"), message(token), {}, -1, false)
                    .accepted);
        QVERIFY(
            login_->verify(kPhone, QStringLiteral("alice"), message(token), {}, 0, false).accepted);
        QVERIFY(!login_->verify(kPhone, QStringLiteral("alice"), message(token), {}, -1, false)
                     .accepted);
    }

    void anExpiredTokenIsRefusedAndForgotten()
    {
        const QString token = login_->issue(kPhone)->token;
        now_ = now_.addSecs(kLifetime.count());
        QVERIFY(!login_->verify(kPhone, QStringLiteral("alice"), message(token), {}, 1, false)
                     .accepted);
        QVERIFY(store_.byKey.empty());
    }

    void aTokenPastHalfItsLifeIsDueForRotation()
    {
        const QString token = login_->issue(kPhone)->token;
        now_ = now_.addSecs(kLifetime.count() / 2 + 1);
        const FastLogin::Verdict verdict =
            login_->verify(kPhone, QStringLiteral("alice"), message(token), {}, 1, false);
        QVERIFY(verdict.accepted);
        QVERIFY(verdict.rotate);
    }

    // XEP-0484: the token in use and its replacement both work until the replacement is used.
    void rotationKeepsTheOldTokenUntilTheNewOneIsUsed()
    {
        const QString old = login_->issue(kPhone)->token;
        QVERIFY(
            login_->verify(kPhone, QStringLiteral("alice"), message(old), {}, 1, false).accepted);
        const QString unused = login_->issue(kPhone)->token;
        const QString fresh = login_->issue(kPhone)->token; // replaces the unused one
        QCOMPARE(store_.byKey.size(), std::size_t(2));
        QVERIFY(!login_->verify(kPhone, QStringLiteral("alice"), message(unused), {}, 1, false)
                     .accepted);
        QVERIFY(
            login_->verify(kPhone, QStringLiteral("alice"), message(old), {}, 2, false).accepted);
        QVERIFY(
            login_->verify(kPhone, QStringLiteral("alice"), message(fresh), {}, 1, false).accepted);
        QVERIFY(
            !login_->verify(kPhone, QStringLiteral("alice"), message(old), {}, 3, false).accepted);
        QCOMPARE(store_.byKey.size(), std::size_t(1));
    }

    void invalidateRevokesTheTokenItLogsInWith()
    {
        const QString token = login_->issue(kPhone)->token;
        QVERIFY(
            login_->verify(kPhone, QStringLiteral("alice"), message(token), {}, 1, true).accepted);
        QVERIFY(store_.byKey.empty());
        QVERIFY(!login_->verify(kPhone, QStringLiteral("alice"), message(token), {}, 2, false)
                     .accepted);
    }

private:
    MemoryTokens store_;
    QDateTime now_;
    std::unique_ptr<FastLogin> login_;
};

QTEST_GUILESS_MAIN(TestFastLogin)
#include "tst_fast_login.moc"

#include "tls_session.h"

#include "tls_context.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>

namespace xbnc {

namespace {

constexpr char kExporterLabel[] = "EXPORTER-Channel-Binding"; // RFC 9266 §2
constexpr size_t kExporterBytes = 32;
// One TLS record's worth of plaintext per SSL_read.
constexpr int kReadChunk = 16 * 1024;

TlsSession *sessionOf(BIO *bio)
{
    return static_cast<TlsSession *>(BIO_get_data(bio));
}

int bioWrite(BIO *bio, const char *data, int size)
{
    BIO_clear_retry_flags(bio);
    sessionOf(bio)->bioWrite(data, size);
    return size;
}

int bioRead(BIO *bio, char *out, int size)
{
    BIO_clear_retry_flags(bio);
    const int read = sessionOf(bio)->bioRead(out, size);
    if (read == 0) {
        BIO_set_retry_read(bio); // more ciphertext will come: not an end of file
        return -1;
    }
    return read;
}

long bioControl(BIO *, int command, long, void *)
{
    // Nothing is buffered here: flushing is done at once, and nothing is ever pending.
    return command == BIO_CTRL_FLUSH ? 1 : 0;
}

int bioCreate(BIO *bio)
{
    BIO_set_init(bio, 1);
    return 1;
}

// A BIO that hands OpenSSL exactly the ciphertext of the current call and takes what it writes
// at once: unlike BIO_s_mem, it holds no buffer between calls.
const BIO_METHOD *passThroughMethod()
{
    static const std::unique_ptr<BIO_METHOD, void (*)(BIO_METHOD *)> method = [] {
        BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "xbnc session");
        BIO_meth_set_write(m, bioWrite);
        BIO_meth_set_read(m, bioRead);
        BIO_meth_set_ctrl(m, bioControl);
        BIO_meth_set_create(m, bioCreate);
        return std::unique_ptr<BIO_METHOD, void (*)(BIO_METHOD *)>(m, BIO_meth_free);
    }();
    return method.get();
}

QString openSslReason()
{
    const unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0)
        return QStringLiteral("connection error");
    const char *reason = ERR_reason_error_string(code);
    return reason ? QString::fromLatin1(reason) : QStringLiteral("OpenSSL error %1").arg(code);
}

} // namespace

TlsSession::TlsSession(std::shared_ptr<const TlsContext> context, Role role)
    : context_(std::move(context)), ssl_(context_ ? SSL_new(context_->handle()) : nullptr)
{
    if (!ssl_) {
        fail(openSslReason());
        return;
    }
    BIO *bio = BIO_new(passThroughMethod());
    BIO_set_data(bio, this);
    SSL_set_bio(ssl_, bio, bio); // the same BIO both ways: the SSL takes its one reference
    if (role == Role::Server)
        SSL_set_accept_state(ssl_);
    else
        SSL_set_connect_state(ssl_);
}

TlsSession::~TlsSession()
{
    SSL_free(ssl_);
}

void TlsSession::start()
{
    if (ssl_)
        advance();
}

void TlsSession::receive(QByteArrayView ciphertext)
{
    if (state_ == State::Failed || state_ == State::Closed)
        return;
    inbound_.append(ciphertext.data(), ciphertext.size());
    advance();
}

void TlsSession::send(QByteArrayView plaintext)
{
    if (state_ == State::Handshaking) {
        held_.append(plaintext.data(), plaintext.size());
        return;
    }
    if (state_ != State::Established || plaintext.isEmpty())
        return;
    ERR_clear_error();
    if (SSL_write(ssl_, plaintext.data(), int(plaintext.size())) <= 0)
        fail(openSslReason());
}

void TlsSession::close()
{
    if (state_ != State::Established && state_ != State::Closed)
        return;
    ERR_clear_error();
    SSL_shutdown(ssl_);
    ERR_clear_error();
}

QByteArray TlsSession::takePlaintext(qsizetype maxSize)
{
    if (maxSize < 0 || maxSize >= plaintext_.size())
        return std::exchange(plaintext_, QByteArray());
    QByteArray head = plaintext_.first(maxSize);
    plaintext_.remove(0, maxSize);
    return head;
}

QByteArray TlsSession::takeCiphertext()
{
    return std::exchange(outbound_, QByteArray());
}

void TlsSession::advance()
{
    ERR_clear_error();
    if (state_ == State::Handshaking) {
        const int result = SSL_do_handshake(ssl_);
        if (result != 1) {
            const int error = SSL_get_error(ssl_, result);
            if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE)
                fail(openSslReason());
        } else {
            state_ = State::Established;
            send(std::exchange(held_, QByteArray()));
        }
    }
    char chunk[kReadChunk];
    while (state_ == State::Established) {
        const int read = SSL_read(ssl_, chunk, sizeof chunk);
        if (read > 0) {
            plaintext_.append(chunk, read);
            continue;
        }
        const int error = SSL_get_error(ssl_, read);
        if (error == SSL_ERROR_ZERO_RETURN)
            state_ = State::Closed;
        else if (error != SSL_ERROR_WANT_READ)
            fail(openSslReason());
        break;
    }
    // All of it was consumed (or is no longer wanted): no buffer is kept while idle.
    if (inboundRead_ >= inbound_.size() || state_ == State::Failed || state_ == State::Closed) {
        inbound_ = QByteArray();
        inboundRead_ = 0;
    }
}

void TlsSession::fail(const QString &what)
{
    state_ = State::Failed;
    error_ = what;
    held_ = QByteArray();
}

int TlsSession::bioRead(char *out, int size)
{
    const int n = int(std::min<qsizetype>(size, inbound_.size() - inboundRead_));
    std::copy_n(inbound_.constData() + inboundRead_, n, out);
    inboundRead_ += n;
    return n;
}

void TlsSession::bioWrite(const char *data, int size)
{
    outbound_.append(data, size);
}

QString TlsSession::protocolName() const
{
    return ssl_ ? QString::fromLatin1(SSL_get_version(ssl_)) : QString();
}

QString TlsSession::cipherName() const
{
    const char *name = ssl_ ? SSL_get_cipher_name(ssl_) : nullptr;
    return name ? QString::fromLatin1(name) : QString();
}

QByteArray TlsSession::serverCertificateDer() const
{
    if (!ssl_)
        return {};
    X509 *certificate =
        SSL_is_server(ssl_) ? SSL_get_certificate(ssl_) : SSL_get0_peer_certificate(ssl_);
    const int length = certificate ? i2d_X509(certificate, nullptr) : 0;
    if (length <= 0)
        return {};
    QByteArray der(length, Qt::Uninitialized);
    auto *cursor = reinterpret_cast<unsigned char *>(der.data());
    i2d_X509(certificate, &cursor);
    return der;
}

QByteArray TlsSession::exporter() const
{
    if (state_ != State::Established)
        return {};
    // RFC 9266 §3: without the extended master secret, TLS 1.2's exporter is not unique to
    // the connection (the triple handshake attack).
    if (SSL_version(ssl_) != TLS1_3_VERSION && SSL_get_extms_support(ssl_) != 1)
        return {};
    QByteArray material(kExporterBytes, Qt::Uninitialized);
    if (SSL_export_keying_material(ssl_, reinterpret_cast<unsigned char *>(material.data()),
                                   kExporterBytes, kExporterLabel, sizeof kExporterLabel - 1,
                                   nullptr, 0, 0) != 1) {
        ERR_clear_error();
        return {};
    }
    return material;
}

} // namespace xbnc

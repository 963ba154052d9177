#pragma once

#include <QString>

#include <memory>

class QLockFile;

namespace xbnc {

// Creates `path` (and missing parents) owner-only with mkdir's mode, not a chmod afterwards; an
// existing directory that group or others may enter is tightened to 0700 with a warning, since
// everything inside is the account's (database, TLS key).
bool ensureOwnerOnlyDirectory(const QString &path, QString *error);

// data_dir, held by this xbnc alone: a second instance on the same directory would interleave
// writes to one database and one upstream queue, so it is refused at start instead.
class DataDir
{
public:
    DataDir();
    ~DataDir();
    DataDir(const DataDir &) = delete;
    DataDir &operator=(const DataDir &) = delete;

    // False with *error when the directory cannot be made or another process holds its lock.
    bool open(const QString &path, QString *error);

    static constexpr const char *lockFileName = "xbnc.lock";

private:
    std::unique_ptr<QLockFile> lock_;
};

} // namespace xbnc

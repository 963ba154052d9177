#pragma once

#include <QString>

namespace xbnc {

// Creates `path` (and missing parents) owner-only with mkdir's mode, not a chmod afterwards; an
// existing directory that group or others may enter is tightened to 0700 with a warning, since
// everything inside is the account's (database, TLS key).
bool ensureOwnerOnlyDirectory(const QString &path, QString *error);

// data_dir, held by this xbnc alone: a second instance on the same directory would interleave
// writes to one database and one upstream queue, so it is refused at start instead. The lock is
// flock() on data_dir/xbnc.lock, which the kernel releases when the process ends however it
// ends: a lock file judged by pid and host name (QLockFile) stays "held" when a container's new
// xbnc gets the old one's pid or a new host name.
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
    int lockFd_ = -1;
};

} // namespace xbnc

#include "pipeline/RunJournal.h"

#include <QDateTime>
#include <QDir>
#include <QJsonDocument>

#ifdef Q_OS_UNIX
#include <unistd.h>
#endif

namespace gd::pipeline {

RunJournal::~RunJournal()
{
    close();
}

Error RunJournal::open(const QString& runDir)
{
    close();
    m_file.setFileName(QDir(runDir).filePath(fileName()));
    // Unbuffered: each append is one write() straight to the kernel, nothing waits in a Qt buffer
    // when the process dies.
    if (!m_file.open(QIODevice::WriteOnly | QIODevice::Append | QIODevice::Unbuffered)) {
        m_lastError = {
            QStringLiteral("io"),
            QStringLiteral("Cannot open the run journal %1: %2").arg(m_file.fileName(), m_file.errorString()),
            {}};
        return m_lastError;
    }
    m_lastError = {};
    return {};
}

void RunJournal::close()
{
    if (m_file.isOpen())
        m_file.close();
}

Error RunJournal::append(const QString& type, const QString& sceneId, const QJsonObject& fields, bool sync)
{
    if (!m_file.isOpen())
        return m_lastError = {QStringLiteral("io"), QStringLiteral("The run journal is not open"), {}};
    QJsonObject o = fields;
    o.insert(QStringLiteral("Type"), type);
    o.insert(QStringLiteral("At"), QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs));
    if (!sceneId.isEmpty())
        o.insert(QStringLiteral("Scene"), sceneId);
    const QByteArray line = QJsonDocument(o).toJson(QJsonDocument::Compact) + '\n';
    if (m_file.write(line) != line.size()) {
        m_lastError = {QStringLiteral("io"),
                       QStringLiteral("Cannot append to the run journal %1: %2")
                           .arg(m_file.fileName(), m_file.errorString()),
                       {}};
        return m_lastError;
    }
#ifdef Q_OS_UNIX
    if (sync && ::fdatasync(m_file.handle()) != 0) {
        m_lastError = {QStringLiteral("io"),
                       QStringLiteral("Cannot sync the run journal %1").arg(m_file.fileName()),
                       {}};
        return m_lastError;
    }
#else
    if (sync)
        m_file.flush();
#endif
    m_lastError = {};
    return {};
}

RunJournal::ReadResult RunJournal::read(const QString& runDir)
{
    ReadResult r;
    QFile f(QDir(runDir).filePath(fileName()));
    if (!f.exists()) {
        r.error = {QStringLiteral("missing"), QStringLiteral("%1 has no %2").arg(runDir, fileName()), {}};
        return r;
    }
    if (!f.open(QIODevice::ReadOnly)) {
        r.error = {QStringLiteral("io"),
                   QStringLiteral("Cannot read %1: %2").arg(f.fileName(), f.errorString()),
                   {}};
        return r;
    }
    int lineNo = 0;
    while (!f.atEnd()) {
        const QByteArray line = f.readLine().trimmed();
        ++lineNo;
        if (line.isEmpty())
            continue;
        QJsonParseError pe{};
        const QJsonDocument doc = QJsonDocument::fromJson(line, &pe);
        if (pe.error != QJsonParseError::NoError || !doc.isObject() ||
            !doc.object().value(QStringLiteral("Type")).isString()) {
            r.problems << QStringLiteral("%1 line %2 is not a journal entry (%3); skipped")
                              .arg(fileName())
                              .arg(lineNo)
                              .arg(pe.error != QJsonParseError::NoError ? pe.errorString()
                                                                        : QStringLiteral("no Type"));
            continue;
        }
        r.entries.push_back(doc.object());
    }
    return r;
}

} // namespace gd::pipeline

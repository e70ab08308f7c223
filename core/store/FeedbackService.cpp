#include "store/FeedbackService.h"

#include "common/AtomicFile.h"
#include "store/RunStore.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSqlQuery>
#include <QStringList>
#include <QVariant>

namespace gd::store {

namespace {

Error invalid(const QString& message)
{
    return Error{QStringLiteral("invalidRating"), message, {}};
}

} // namespace

FeedbackService::FeedbackService(Database& db) : m_db(db) {}

QString FeedbackService::operatorName()
{
    QString name = qEnvironmentVariable("USER");
    if (name.isEmpty())
        name = qEnvironmentVariable("USERNAME");
    return name.isEmpty() ? QStringLiteral("unknown") : name;
}

Error FeedbackService::rate(const QString& runDir, const QString& sceneId, int stars,
                            std::optional<int> coherence, const QString& comment, Rating* recorded)
{
    if (stars < 1 || stars > 5)
        return invalid(QStringLiteral("stars must be 1 to 5 (got %1)").arg(stars));
    if (coherence && (*coherence < 1 || *coherence > 5))
        return invalid(QStringLiteral("coherence must be 1 to 5 (got %1)").arg(*coherence));
    if (runDir.isEmpty() || !QFileInfo(runDir).isDir())
        return Error{QStringLiteral("unknownRun"), QStringLiteral("no run directory %1").arg(runDir), {}};

    QJsonObject artifact;
    if (Error e = RunStore::readArtifact(runDir, artifact); !e.isNull()) {
        if (e.kind == QLatin1String("missingArtifact"))
            return Error{QStringLiteral("unknownRun"),
                         QStringLiteral("%1 is not a run directory (%2)").arg(runDir, e.message), e.detail};
        return e;
    }
    bool sceneFound = false;
    for (const QJsonValue& v : artifact.value(QLatin1String("Scenes")).toArray())
        sceneFound = sceneFound || v.toObject().value(QLatin1String("SceneId")).toString() == sceneId;
    if (!sceneFound)
        return Error{QStringLiteral("unknownScene"),
                     QStringLiteral("run %1 has no scene %2")
                         .arg(artifact.value(QLatin1String("RunId")).toString(), sceneId),
                     QJsonObject{{QStringLiteral("runDir"), runDir}, {QStringLiteral("sceneId"), sceneId}}};

    Rating rating;
    rating.runId = artifact.value(QLatin1String("RunId")).toString();
    rating.runDir = RunStore::normalizeRunDir(runDir);
    rating.sceneId = sceneId;
    rating.stars = stars;
    rating.coherence = coherence;
    rating.comment = comment;
    rating.operatorName = operatorName();
    // Millisecond precision, as every other timestamp of the artifact.
    rating.ratedAt = QDateTime::fromMSecsSinceEpoch(QDateTime::currentMSecsSinceEpoch(), Qt::UTC);
    const QString ratedAt = rating.ratedAt.toString(Qt::ISODateWithMs);

    QJsonArray feedback = artifact.value(QLatin1String("Feedback")).toArray();
    feedback.append(QJsonObject{
        {QStringLiteral("SceneId"), sceneId},
        {QStringLiteral("Stars"), stars},
        {QStringLiteral("Coherence"), coherence ? QJsonValue(*coherence) : QJsonValue(QJsonValue::Null)},
        {QStringLiteral("Comment"), comment},
        {QStringLiteral("Operator"), rating.operatorName},
        {QStringLiteral("Timestamp"), ratedAt}});
    QJsonObject updated = artifact;
    updated.insert(QStringLiteral("Feedback"), feedback);

    // Database row and artifact rewrite succeed or fail together: the artifact is written inside
    // the write transaction, which is rolled back when the rewrite fails.
    RunStore runs(m_db);
    const Error e = m_db.writeTransaction([&]() -> Error {
        QSqlQuery find = m_db.query();
        find.prepare(QStringLiteral("SELECT id FROM runs WHERE run_id = ? AND run_dir = ?"));
        find.addBindValue(rating.runId);
        find.addBindValue(rating.runDir);
        if (Error lookup = m_db.exec(find); !lookup.isNull())
            return lookup;
        if (find.next()) {
            QSqlQuery insert = m_db.query();
            insert.prepare(QStringLiteral(
                "INSERT INTO feedback (run_key, scene_id, stars, coherence, comment, operator, "
                "rated_at_ms, rated_at) VALUES (?,?,?,?,?,?,?,?)"));
            for (const QVariant& v : {find.value(0), QVariant(sceneId), QVariant(stars),
                                      coherence ? QVariant(*coherence) : QVariant(), QVariant(comment),
                                      QVariant(rating.operatorName),
                                      QVariant(rating.ratedAt.toMSecsSinceEpoch()), QVariant(ratedAt)})
                insert.addBindValue(v);
            if (Error ins = m_db.exec(insert); !ins.isNull())
                return ins;
        } else if (Error rec = runs.recordRunInTransaction(updated, rating.runDir); !rec.isNull()) {
            // A run not recorded yet (e.g. rated straight after a crash): record it whole, which
            // takes the new rating from Feedback[].
            return rec;
        }
        const Error written =
            AtomicFile::write(QDir(runDir).filePath(QStringLiteral("artifact-metadata.json")),
                              QJsonDocument(updated).toJson(QJsonDocument::Indented));
        if (!written.isNull())
            return Error{QStringLiteral("io"), QStringLiteral("rating not saved: %1").arg(written.message),
                         written.detail};
        return {};
    });
    if (!e.isNull())
        return e;
    if (recorded)
        *recorded = rating;
    return {};
}

Error FeedbackService::ratingsOf(const QString& runDir, QVector<Rating>& out) const
{
    out.clear();
    QSqlQuery q = m_db.query();
    q.setForwardOnly(true);
    q.prepare(
        QStringLiteral("SELECT r.run_id, r.run_dir, f.scene_id, f.stars, f.coherence, f.comment, f.operator, "
                       "f.rated_at_ms FROM feedback f JOIN runs r ON r.id = f.run_key WHERE r.run_dir = ? "
                       "ORDER BY f.rated_at_ms, f.id"));
    q.addBindValue(RunStore::normalizeRunDir(runDir));
    if (Error e = m_db.exec(q); !e.isNull())
        return e;
    while (q.next()) {
        Rating r;
        r.runId = q.value(0).toString();
        r.runDir = q.value(1).toString();
        r.sceneId = q.value(2).toString();
        r.stars = q.value(3).toInt();
        if (!q.value(4).isNull())
            r.coherence = q.value(4).toInt();
        r.comment = q.value(5).toString();
        r.operatorName = q.value(6).toString();
        if (!q.value(7).isNull())
            r.ratedAt = QDateTime::fromMSecsSinceEpoch(q.value(7).toLongLong(), Qt::UTC);
        out.append(r);
    }
    return {};
}

Error FeedbackService::aggregates(FeedbackGroup groupBy, QVector<FeedbackAggregate>& out) const
{
    out.clear();
    struct Column
    {
        FeedbackGroup group;
        const char* column;
    };
    const Column columns[] = {{FeedbackGroup::Genre, "r.genre"},
                              {FeedbackGroup::TemplateVersion, "r.template_version"},
                              {FeedbackGroup::Model, "r.model"},
                              {FeedbackGroup::Workflow, "r.workflow"}};
    QStringList grouped;
    QStringList select;
    for (const Column& c : columns) {
        const bool on = hasGroup(groupBy, c.group);
        if (on)
            grouped << QString::fromLatin1(c.column);
        select << (on ? QString::fromLatin1(c.column) : QStringLiteral("NULL"));
    }
    QString sql = QStringLiteral("SELECT %1, AVG(f.stars), AVG(f.coherence), COUNT(*), COUNT(f.coherence) "
                                 "FROM feedback f JOIN runs r ON r.id = f.run_key")
                      .arg(select.join(QStringLiteral(", ")));
    if (!grouped.isEmpty())
        sql += QStringLiteral(" GROUP BY %1").arg(grouped.join(QStringLiteral(", ")));
    sql += QStringLiteral(" HAVING COUNT(*) > 0 ORDER BY COUNT(*) DESC");
    for (const QString& g : grouped)
        sql += QStringLiteral(", ") + g;

    QSqlQuery q = m_db.query();
    q.setForwardOnly(true);
    q.prepare(sql);
    if (Error e = m_db.exec(q); !e.isNull())
        return e;
    while (q.next()) {
        FeedbackAggregate a;
        a.groupBy = groupBy;
        a.genre = q.value(0).toString();
        a.templateVersion = q.value(1).toString();
        a.model = q.value(2).toString();
        a.workflow = q.value(3).toString();
        a.meanStars = q.value(4).toDouble();
        if (!q.value(5).isNull())
            a.meanCoherence = q.value(5).toDouble();
        a.count = q.value(6).toInt();
        a.coherenceCount = q.value(7).toInt();
        QStringList key;
        for (int i = 0; i < 4; ++i) {
            if (hasGroup(groupBy, columns[i].group))
                key << q.value(i).toString();
        }
        a.key = key.join(QLatin1Char('|'));
        out.append(a);
    }
    return {};
}

QString FeedbackService::format(const FeedbackAggregate& a)
{
    const auto orUnknown = [](const QString& s) { return s.isEmpty() ? QStringLiteral("unknown") : s; };
    QString label;
    if (hasGroup(a.groupBy, FeedbackGroup::Genre))
        label += orUnknown(a.genre);
    if (hasGroup(a.groupBy, FeedbackGroup::TemplateVersion))
        label += QLatin1Char('@') + orUnknown(a.templateVersion);
    if (hasGroup(a.groupBy, FeedbackGroup::Model))
        label += (label.isEmpty() ? QString() : QStringLiteral(" on ")) + orUnknown(a.model);
    if (hasGroup(a.groupBy, FeedbackGroup::Workflow))
        label += (label.isEmpty() ? QString() : QStringLiteral(" via ")) + orUnknown(a.workflow);
    if (label.isEmpty())
        label = QStringLiteral("all runs");
    return label + QStringLiteral(": ") + QString::number(a.meanStars, 'f', 1) + QChar(0x2605) +
           QStringLiteral(" (n=%1)").arg(a.count);
}

} // namespace gd::store

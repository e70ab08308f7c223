#pragma once

#include "common/Error.h"
#include "store/Database.h"
#include "store/StoreTypes.h"

#include <QString>
#include <QVector>
#include <optional>

namespace gd::store {

// Takes an operator's rating of a scene: validates it, writes it to the database and to the run's
// artifact-metadata.json Feedback[] (atomic rewrite; every other field unchanged), and aggregates
// ratings by genre / template version / model / workflow for the GUI.
// Threading: uses its Database's connection, so it lives on that connection's thread.
class FeedbackService
{
public:
    explicit FeedbackService(Database& db);

    // Errors (kind): "invalidRating" (stars or coherence outside 1–5), "unknownRun" (no such run
    // directory or no artifact in it), "unknownScene" (the artifact has no scene of that id),
    // "corruptArtifact", "io" (artifact could not be rewritten; the database is left unchanged),
    // "locked"/"sql". The operator is the OS user; the time is now, UTC.
    Error rate(const QString& runDir, const QString& sceneId, int stars,
               std::optional<int> coherence = std::nullopt, const QString& comment = {},
               Rating* recorded = nullptr);

    // Ratings of one run directory, oldest first.
    Error ratingsOf(const QString& runDir, QVector<Rating>& out) const;
    // Mean stars / coherence and counts per group, largest groups first.
    Error aggregates(FeedbackGroup groupBy, QVector<FeedbackAggregate>& out) const;

    // "drama@1.0 on mistral-7b: 4.2★ (n=37)": genre, "@template version", " on model",
    // " via workflow" (only the grouped parts; "unknown" where the run did not record one).
    static QString format(const FeedbackAggregate& aggregate);
    // The OS user (USER, else USERNAME), "unknown" when neither is set.
    static QString operatorName();

private:
    Database& m_db;
};

} // namespace gd::store

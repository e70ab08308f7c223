#pragma once

#include <QString>
#include <QStringList>
#include <QTextStream>

namespace gd::telemetry {

// Outcome of validating one run directory: exitCode 0 valid, 1 violations, 2 no such run
// directory or its artifact-metadata.json / run-summary.txt missing. One message per violation.
struct ValidationResult
{
    int exitCode = 0;
    QStringList errors;

    bool passed() const { return exitCode == 0; }
};

// Checks a run directory against the telemetry contract (§5): artifact field presence and types,
// enums and cross-field rules, and that run-summary.txt agrees with the artifact.
class RunValidator
{
public:
    static ValidationResult validate(const QString& runDir);
    // What `gemdirect validate RUN_DIR` prints: one "ERROR: <msg>" line per violation, then
    // "run-summary validation: PASS" or "run-summary validation: FAIL". Returns the exit code.
    static int run(const QString& runDir, QTextStream& out);
};

} // namespace gd::telemetry

// libFuzzer target: a workflow profile pair through WorkflowProfileLoader. The input is
// "<graph.json>\0<graph.profile.json>" (without a NUL it is a graph alone); the graph also goes
// through fromGraph(), the mapping inference that follows links through an untrusted graph.
#include "FuzzInput.h"
#include "comfy/WorkflowProfileLoader.h"

#include <QJsonDocument>

using gd::comfy::WorkflowProfile;
using gd::comfy::WorkflowProfileLoader;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const QByteArray input = gd::fuzz::bytesOf(data, size);
    const qsizetype nul = input.indexOf('\0');
    const QByteArray graphJson = nul < 0 ? input : input.left(nul);
    const QByteArray profileJson = nul < 0 ? QByteArray("{}") : input.mid(nul + 1);

    QStringList errors;
    const auto profile = WorkflowProfileLoader::fromJson(graphJson, profileJson, QStringLiteral("fuzz.json"),
                                                         QStringLiteral("fuzz.profile.json"), &errors);
    gd::fuzz::require(profile.has_value() == errors.isEmpty(), "errors and result disagree");
    if (profile) {
        gd::fuzz::require(WorkflowProfileLoader::validate(*profile).isEmpty(), "a loaded profile is invalid");
        gd::fuzz::require(!profile->outputNodeIds().isEmpty(), "a loaded profile without an output node");
        (void)profile->classTypes();
        (void)profile->markerNodeId();
        (void)profile->totalSamplerSteps();
        WorkflowProfile copy = *profile;
        copy.mapping.clear();
        gd::fuzz::require(
            WorkflowProfileLoader::applyProfileJson(profile->profileJson(), QStringLiteral("x"), &copy)
                .isEmpty(),
            "profileJson() of a valid profile does not apply again");
        gd::fuzz::require(copy.mapping == profile->mapping, "profileJson() loses the mapping");
    }

    const QJsonDocument graph = QJsonDocument::fromJson(graphJson);
    if (graph.isObject()) {
        QStringList notes;
        const WorkflowProfile inferred =
            WorkflowProfileLoader::fromGraph(QStringLiteral("fuzz"), graph.object(), &notes);
        gd::fuzz::require(inferred.graph == graph.object(), "inference changed the graph");
        (void)WorkflowProfileLoader::validate(inferred);
        // The progress denominator is read from any graph the operator imports, valid or not.
        gd::fuzz::require(inferred.totalSamplerSteps() >= 0, "negative total sampler steps");
        (void)inferred.outputNodeIds();
        (void)inferred.classTypes();
    }
    return 0;
}

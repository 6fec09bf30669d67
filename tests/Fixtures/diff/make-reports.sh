#!/bin/sh
# Saved reports for the diff tests, made by the tool itself from two captured fixtures (run from the repository root
# after a Release build): each is 'mapsexporter report DUMP --format json' of the fixture's smaps.
set -eu
tool="dotnet src/MapsExporter/bin/Release/net10.0/mapsexporter.dll"
for name in jdk17-g1-arenamax1-native-churn jdk17-g1-arenamax4-native-churn; do
    $tool report "tests/Fixtures/$name/smaps" --format json > "tests/Fixtures/diff/$name.report.json"
done

// Every widget rendered into a small grid and compared with the expected lines (and, where
// styles carry meaning, role codes). Two composites are pinned as golden files.

import Canvas
import Explorer
import Testing

/// Renders `widget` into a fresh grid of `width` × `height`, filling it.
private func render(_ widget: some Widget, width: Int, height: Int) -> Grid {
    var grid = Grid(width: width, height: height)
    grid.render(widget, in: grid.bounds)
    return grid
}

private func bars(_ values: [Double]) -> [BarChart.Bar] {
    values.map { BarChart.Bar($0) }
}

@Suite struct BarChartTests {
    @Test func oneRowShowsEveryEighth() {
        let chart = BarChart(bars: bars([0, 1, 2, 3, 4, 5, 6, 7, 8]), maximum: 8)
        #expect(render(chart, width: 9, height: 1).lines == [" ▁▂▃▄▅▆▇█"])
    }

    @Test func tallBarsStackFullBlocksUnderThePartialTop() {
        let chart = BarChart(bars: bars([0, 4, 8, 12, 16]), maximum: 16)
        #expect(render(chart, width: 5, height: 2).lines == [
            "   ▄█",
            " ▄███",
        ])
    }

    @Test func widthAndGapRepeatEachBar() {
        let chart = BarChart(bars: bars([1, 2, 2]), maximum: 2, barWidth: 2, gap: 1)
        #expect(render(chart, width: 9, height: 1).lines == ["▄▄ ██ ██"])
        #expect(chart.visibleBarCount(width: 8) == 3)
        #expect(chart.visibleBarCount(width: 7) == 2)
    }

    @Test func maximumDefaultsToTheLargestValueAndClampsAbove() {
        #expect(render(BarChart(bars: bars([2, 4])), width: 2, height: 1).lines == ["▄█"])
        #expect(render(BarChart(bars: bars([2, 9, -1, .nan]), maximum: 4), width: 4, height: 1).lines == ["▄█"])
    }

    @Test func aTinyPositiveValueStillShowsASliver() {
        let chart = BarChart(bars: bars([0, 0.0001, 1]), maximum: 1)
        #expect(render(chart, width: 3, height: 2).lines == ["  █", " ▁█"])
    }

    @Test func thresholdLineRunsWhereNoBarCoversItsRow() {
        let chart = BarChart(bars: bars([1, 3, 0, 4]), maximum: 4, threshold: 2.5)
        let grid = render(chart, width: 5, height: 4)
        #expect(grid.lines == [
            "   █",
            "─█─█─",
            " █ █",
            "██ █",
        ])
        #expect(grid.styledLines[3] == "lrlrl")
    }

    @Test func markersUnderTheBarsAndTheCursorReversesItsMarker() {
        let chart = BarChart(
            bars: [
                BarChart.Bar(1, style: .pruned, marker: "×", markerStyle: .pruned),
                BarChart.Bar(2, style: .kept, marker: "·"),
                BarChart.Bar(0, style: .kept, marker: "·"),
            ],
            maximum: 2, barWidth: 2, gap: 1, cursor: 2)
        let grid = render(chart, width: 8, height: 2)
        #expect(chart.hasMarkerRow)
        #expect(grid.styledLines == [
            "▄▄ ██",
            "pp.kk...",
            "×× ·· ··",
            "pp.dd.dd",
            "      RR",
        ])
    }

    @Test func cursorBarUsesTheCursorStyle() {
        let chart = BarChart(bars: bars([1, 1, 1]), maximum: 1, cursor: 1)
        #expect(render(chart, width: 3, height: 1).styledLines == ["███", "rcr"])
    }

    @Test func scrollingKeepsTheCursorInView() {
        let chart = BarChart(bars: bars([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), maximum: 8, cursor: 7, scrollOffset: 0)
        let area = Rect(x: 0, y: 0, width: 4, height: 1)
        #expect(chart.visibleRange(in: area) == 4..<8)
        #expect(render(chart, width: 4, height: 1).lines == ["▄▅▆▇"])

        var back = chart
        back.cursor = 1
        back.scrollOffset = 4
        #expect(back.visibleRange(in: area) == 1..<5)
    }

    @Test func staysInsideItsArea() {
        var grid = Grid(width: 6, height: 4)
        grid.fill(grid.bounds, with: ".")
        let chart = BarChart(bars: bars([8, 8, 8, 8, 8, 8]), maximum: 8, threshold: 1)
        grid.render(chart, in: Rect(x: 1, y: 1, width: 3, height: 2))
        #expect(grid.lines == [
            "......",
            ".███..",
            ".███..",
            "......",
        ])
    }
}

@Suite struct SparklineTests {
    @Test func oneValuePerColumn() {
        let line = Sparkline(values: [0, 1, 2, 3, 4, 5, 6, 7, 8])
        #expect(render(line, width: 12, height: 1).lines == [" ▁▂▃▄▅▆▇█"])
    }

    @Test func moreValuesThanColumnsShowTheLargestOfEachGroup() {
        let line = Sparkline(values: [0, 0, 0, 8, 1, 1, 4, 1], styles: [.kept, .kept, .kept, .pruned])
        let grid = render(line, width: 4, height: 1)
        #expect(grid.lines == [" █▁▄"])
        #expect(grid.styledLines[1] == "kprr")
    }

    @Test func distributionCountsValuesPerBinAndMarksBinsBelowTheThreshold() {
        let strip = Distribution(values: [1, 1, 1, 1, 2, 3, 10], scale: .linear, threshold: 5)
        #expect(strip.counts(bins: 3) == [6, 0, 1])
        #expect(render(strip, width: 3, height: 1).styledLines == ["█ ▁", "pkk"])
    }

    @Test func logarithmicDistributionPutsZerosInTheFirstBin() {
        let strip = Distribution(values: [1, 10, 100, 1000, 0])
        #expect(strip.counts(bins: 3) == [2, 1, 2])
        #expect(render(strip, width: 3, height: 1).lines == ["█▄█"])
    }

    @Test func aSharedRangeMakesRowsComparable() {
        let strip = Distribution(values: [5, 5], scale: .linear, range: 0...10)
        #expect(strip.counts(bins: 4) == [0, 0, 2, 0])
        #expect(Distribution(values: []).counts(bins: 2) == [0, 0])
    }
}

@Suite struct ProgressBarTests {
    @Test func fullLineHasLabelBarPercentRateEtaAndCancelHint() {
        let bar = ProgressBar(label: "evaluate", fraction: 0.52, rate: 583, etaSeconds: 65)
        let grid = render(bar, width: 65, height: 1)
        #expect(grid.lines == ["evaluate ██████▊░░░░░░  52%    583 img/s  ETA  1m05s  Esc cancels"])
        #expect(grid.styledLines[1] == ".........rrrrrrrdddddd.......ddddddddddd..dddddddddd..iiiiiiiiiii")
    }

    @Test func narrowLinesDropRateThenEtaThenHint() {
        let bar = ProgressBar(label: "evaluate", fraction: 0.52, rate: 583, etaSeconds: 65)
        #expect(render(bar, width: 30, height: 1).lines == ["evaluate ████████▎░░░░░░░  52%"])
        #expect(render(bar, width: 45, height: 1).lines == ["evaluate █████████▎░░░░░░░░  52%  Esc cancels"])
    }

    @Test func theBarKeepsItsWidthAsTheRateAndTheEtaChange() {
        // The rate and the ETA take fixed widths, so the bar does not jump as they shorten.
        func barCells(rate: Double, eta: Double?) -> Int {
            let bar = ProgressBar(label: "training", fraction: 0.3, rate: rate, etaSeconds: eta, showsEta: true)
            return render(bar, width: 80, height: 1).lines[0].filter { "░▏▎▍▌▋▊▉█".contains($0) }.count
        }
        let widths = [barCells(rate: 12_345, eta: 7_300), barCells(rate: 583, eta: 125), barCells(rate: 5.8, eta: 9),
                      barCells(rate: 42, eta: 0.4), barCells(rate: 42, eta: nil)]
        #expect(Set(widths).count == 1, "bar widths \(widths)")
        #expect(render(ProgressBar(label: "x", fraction: 0.3, showsEta: true), width: 60, height: 1).lines[0].contains("ETA      …"))
    }

    @Test func aScopeSaysWhatThePercentageIsAShareOf() {
        let bar = ProgressBar(label: "epoch 1/2 at 94%", fraction: 0.47, scope: "of all", cancelHint: nil)
        #expect(render(bar, width: 50, height: 1).lines == ["epoch 1/2 at 94% █████████▊░░░░░░░░░░░  47% of all"])
    }

    @Test func etaCountsFromTheFirstReportNotFromTheStart() {
        var eta = EtaEstimator()
        // A slow start (loading, warm-up): the first report comes after 30 s at 1%.
        eta.add(share: 0.01, elapsedSeconds: 30)
        #expect(eta.secondsLeft == nil, "no estimate from one report")
        eta.add(share: 0.015, elapsedSeconds: 30.5)
        #expect(eta.secondsLeft == nil, "nor from too little progress")
        // Then 1% per second: 90% left is 90 s, not the 2970 s that elapsed/share would say.
        eta.add(share: 0.10, elapsedSeconds: 39)
        #expect(abs((eta.secondsLeft ?? 0) - 90) < 1e-9)
        #expect(abs((ProgressBar.estimatedSecondsLeft(fraction: 0.10, elapsedSeconds: 39) ?? 0) - 351) < 1e-9)
    }

    @Test func emptyAndFullBars() {
        #expect(render(ProgressBar(label: "", fraction: 0, cancelHint: nil), width: 15, height: 1).lines
            == ["░░░░░░░░░░   0%"])
        #expect(render(ProgressBar(label: "", fraction: 1.5, cancelHint: nil), width: 15, height: 1).lines
            == ["██████████ 100%"])
    }

    @Test func estimatedTimeLeftScalesTheElapsedTime() {
        #expect(ProgressBar.estimatedSecondsLeft(fraction: 0.25, elapsedSeconds: 10) == 30)
        #expect(ProgressBar.estimatedSecondsLeft(fraction: 0, elapsedSeconds: 10) == nil)
    }
}

@Suite struct TableTests {
    let table = Table(
        columns: [Table.Column("layer"), Table.Column("kept", alignment: .right)],
        rows: [
            Table.Row(["conv1", "28/32"]),
            Table.Row(["conv2", Table.Cell("9/32", style: .pruned)]),
            Table.Row(["conv3.long.name", "64/64"]),
        ],
        selected: 1)

    @Test func widthsComeFromTheContent() {
        #expect(table.columnWidths(maximumWidth: 80) == [15, 5])
        let grid = render(table, width: 24, height: 4)
        #expect(grid.lines == [
            "layer             kept",
            "conv1            28/32",
            "conv2             9/32",
            "conv3.long.name  64/64",
        ])
        #expect(grid.styledLines[1] == "hhhhh.............hhhh..")
        #expect(grid.styledLines[5] == "ssssssssssssssssssssssss")
    }

    @Test func cellStylesShowOutsideTheSelectedRow() {
        var unselected = table
        unselected.selected = nil
        #expect(render(unselected, width: 22, height: 3).styledLines[5] == "..................pppp")
    }

    @Test func tooWideShrinksTheWidestColumnAndTruncates() {
        #expect(table.columnWidths(maximumWidth: 15) == [8, 5])
        #expect(render(table, width: 15, height: 4).lines == [
            "layer      kept",
            "conv1     28/32",
            "conv2      9/32",
            "conv3.l…  64/64",
        ])
    }

    @Test func scrollingKeepsTheSelectedRowVisible() {
        let rows = (0..<10).map { Table.Row(["row \($0)"]) }
        let long = Table(columns: [Table.Column("name")], rows: rows, selected: 5)
        #expect(long.visibleRows(in: Rect(x: 0, y: 0, width: 10, height: 3)) == 4..<6)
        #expect(render(long, width: 10, height: 3).lines == ["name", "row 4", "row 5"])
    }

    @Test func noHeaderWhenNoColumnHasATitle() {
        let bare = Table(columns: [Table.Column("")], rows: [Table.Row(["a"]), Table.Row(["b"])])
        #expect(render(bare, width: 3, height: 2).lines == ["a", "b"])
    }
}

private enum TestAction: Sendable { case quit, help, previous, next, prune }

private let keys: KeyTable<TestAction> = [
    KeyBinding(["q"], label: "quit", action: .quit),
    KeyBinding(["?"], label: "help", action: .help),
    KeyBinding([.left, "h"], label: "channel", help: "previous channel", action: .previous, hintKeys: "←→"),
    KeyBinding([.right, "l"], label: "", help: "next channel", action: .next),
    KeyBinding(["p"], label: "prune", help: "prune for real", action: .prune),
]

@Suite struct KeyHintTests {
    @Test func hintLineListsLabelledBindingsInOrder() {
        let grid = render(KeyHints(keys), width: 40, height: 1)
        #expect(grid.lines == ["q quit  ? help  ←→ channel  p prune"])
        #expect(grid.styledLines[1] == "aiiiii..aiiiii..aaiiiiiiii..aiiiiii.....")
    }

    @Test func hintLineClosesUpThenDropsWholeHintsThatDoNotFit() {
        #expect(render(KeyHints(keys), width: 25, height: 1).lines == ["q quit ? help ←→ channel"], "one space apart")
        #expect(render(KeyHints(keys), width: 20, height: 1).lines == ["q quit ? help"], "the last ones left out")
    }

    @Test func hintsTakeASecondLineWhenTheyNeedIt() {
        let hints = KeyHints(keys)
        #expect(hints.lineCount(width: 40, maximum: 2) == 1)
        #expect(hints.lineCount(width: 20, maximum: 2) == 2)
        #expect(render(hints, width: 20, height: 2).lines == ["q quit  ? help", "←→ channel  p prune"])
    }

    @Test func helpOverlayListsEveryBinding() {
        var grid = Grid(width: 30, height: 9)
        grid.fill(grid.bounds, with: "x")
        grid.render(HelpOverlay(keys), in: grid.bounds)
        #expect(grid.lines == [
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "xx┌─ Keys ────────────────┐xxx",
            "xx│ q    quit             │xxx",
            "xx│ ?    help             │xxx",
            "xx│ ← h  previous channel │xxx",
            "xx│ → l  next channel     │xxx",
            "xx│ p    prune for real   │xxx",
            "xx└────────── Esc closes ─┘xxx",
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        ])
    }

    @Test func helpOverlayScrollsWhenTaller() {
        var grid = Grid(width: 30, height: 6)
        grid.render(HelpOverlay(keys, scrollOffset: 1), in: grid.bounds)
        assertSnapshot(grid, named: "help-overlay-scrolled")
    }
}

@Suite struct BoxTests {
    @Test func frameWithTitleAndFooter() {
        let grid = render(Box(title: "Layers", footer: "3 of 9"), width: 16, height: 3)
        #expect(grid.lines == [
            "┌─ Layers ─────┐",
            "│              │",
            "└───── 3 of 9 ─┘",
        ])
        #expect(grid.styledLines[1] == "ffttttttttffffff")
        #expect(Box.inner(Rect(x: 0, y: 0, width: 16, height: 3)) == Rect(x: 1, y: 1, width: 14, height: 1))
    }

    @Test func longTitlesAreTruncatedAndTinyAreasSkipped() {
        #expect(render(Box(title: "Layers and more", border: .rounded), width: 14, height: 2).lines == [
            "╭─ Layers … ─╮",
            "╰────────────╯",
        ])
        #expect(render(Box(title: "x"), width: 1, height: 5).lines == ["", "", "", "", ""])
    }

    @Test func dialogAsksACenteredQuestion() {
        var grid = Grid(width: 50, height: 11)
        grid.fill(grid.bounds, with: "·", style: .dim)
        let dialog = Dialog(title: "Quit", message: "Unsaved pruned model. Quit anyway?",
                            choices: [Dialog.Choice("y", "quit"), Dialog.Choice("n", "stay")])
        #expect(dialog.frame(in: grid.bounds) == Rect(x: 5, y: 2, width: 40, height: 7))
        grid.render(dialog, in: grid.bounds)
        #expect(grid.lines == [
            "··················································",
            "··················································",
            "·····┌─ Quit ───────────────────────────────┐·····",
            "·····│                                      │·····",
            "·····│  Unsaved pruned model. Quit anyway?  │·····",
            "·····│                                      │·····",
            "·····│           y quit   n stay            │·····",
            "·····│                                      │·····",
            "·····└──────────────────────────────────────┘·····",
            "··················································",
            "··················································",
        ])
        assertSnapshot(grid, named: "dialog-quit")
    }

    @Test func dialogWrapsLongMessagesToTheScreen() {
        let dialog = Dialog(title: "Prune", message: "Remove 12 channels from 4 layers for good?")
        let grid = render(dialog, width: 24, height: 8)
        #expect(grid.lines == [
            "┌─ Prune ──────────────┐",
            "│                      │",
            "│  Remove 12 channels  │",
            "│  from 4 layers for   │",
            "│  good?               │",
            "│                      │",
            "└──────────────────────┘",
            "",
        ])
    }

    @Test func tooSmallScreenSaysWhatIsNeeded() {
        let grid = TooSmallScreen.grid(size: Size(width: 40, height: 10))
        #expect(grid.lines == [
            "", "", "",
            "           Terminal too small",
            "         needs 80x24, is 40x10",
            "                q quits",
            "", "", "", "",
        ])
        #expect(TooSmallScreen.grid(size: Size(width: 20, height: 2)).lines == [
            "needs 80x24, is 20x2",
            "      q quits",
        ])
        #expect(TooSmallScreen.grid(size: Size(width: 0, height: 0)).lines == [])
    }
}

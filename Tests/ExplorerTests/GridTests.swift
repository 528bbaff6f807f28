// The grid, its geometry, text fitting, number formats, keys and themes.

import Canvas
import Explorer
import Testing

@Suite struct GridTests {
    @Test func putWritesOneCharacterPerCellAndClipsAtTheEdges() {
        var grid = Grid(width: 6, height: 2)
        #expect(grid.put("abc", x: 4, y: 0) == 7)
        grid.put("xyz", x: -1, y: 1)
        grid.put("never", x: 0, y: 2)
        grid.put("never", x: 0, y: -1)
        #expect(grid.lines == ["    ab", "yz"])
    }

    @Test func putStaysInsideTheClipRectangle() {
        var grid = Grid(width: 8, height: 2)
        grid.put("abcdefgh", x: 0, y: 0, clip: Rect(x: 2, y: 0, width: 3, height: 1))
        grid.put("abcdefgh", x: 0, y: 1, clip: Rect(x: 2, y: 0, width: 3, height: 1))
        #expect(grid.lines == ["  cde", ""])
    }

    @Test func controlCharactersBecomeSpaces() {
        var grid = Grid(width: 5, height: 1)
        grid.put("a\tb\nc", x: 0, y: 0)
        #expect(grid.lines == ["a b c"])
    }

    @Test func putInRectAlignsAndTruncates() {
        var grid = Grid(width: 8, height: 3)
        grid.put("ab", in: Rect(x: 0, y: 0, width: 8, height: 1), alignment: .right)
        grid.put("ab", in: Rect(x: 0, y: 1, width: 8, height: 1), alignment: .center)
        grid.put("abcdefghij", in: Rect(x: 1, y: 2, width: 5, height: 1))
        #expect(grid.lines == ["      ab", "   ab", " abcd…"])
    }

    @Test func fillAndRestyleCoverTheRectangleOnly() {
        var grid = Grid(width: 5, height: 3)
        grid.fill(Rect(x: 1, y: 1, width: 3, height: 5), with: "#", style: .pruned)
        grid.restyle(Rect(x: 0, y: 2, width: 2, height: 1), style: .selected)
        #expect(grid.lines == ["", " ###", " ###"])
        #expect(grid[1, 1].style == .pruned)
        #expect(grid[0, 2] == Cell(" ", style: .selected))
        #expect(grid[1, 2] == Cell("#", style: .selected))
        #expect(grid[9, 9] == .blank)
    }

    @Test func styledLinesPairEveryRowWithRoleCodesAndFlags() {
        var grid = Grid(width: 6, height: 2)
        grid.put("ok", x: 0, y: 0, style: .good)
        grid.put("×", x: 3, y: 0, style: Style(.pruned, bold: true))
        grid.put("sel", x: 1, y: 1, style: Style.selected.reversed())
        #expect(grid.styledLines == [
            "ok ×",
            "gg.p..",
            "   B",
            " sel",
            ".sss..",
            " RRR",
        ])
    }

    @Test func rectGeometry() {
        let rect = Rect(x: 2, y: 1, width: 10, height: 6)
        #expect(rect.inset(by: 1) == Rect(x: 3, y: 2, width: 8, height: 4))
        #expect(rect.inset(by: 9).isEmpty)
        #expect(rect.intersection(Rect(x: 0, y: 0, width: 5, height: 3)) == Rect(x: 2, y: 1, width: 3, height: 2))
        #expect(rect.intersection(Rect(x: 50, y: 0, width: 5, height: 3)).isEmpty)
        #expect(rect.centered(width: 4, height: 3) == Rect(x: 5, y: 2, width: 4, height: 3))
        #expect(rect.centered(width: 40, height: 3) == Rect(x: 2, y: 2, width: 10, height: 3))
        #expect(rect.row(2) == Rect(x: 2, y: 3, width: 10, height: 1))
        #expect(rect.row(6).isEmpty)
        #expect(rect.splitTop(2) == (Rect(x: 2, y: 1, width: 10, height: 2), Rect(x: 2, y: 3, width: 10, height: 4)))
        #expect(rect.splitBottom(1).bottom == Rect(x: 2, y: 6, width: 10, height: 1))
        #expect(rect.splitLeft(3).rest == Rect(x: 5, y: 1, width: 7, height: 6))
        #expect(rect.splitRight(30).right == rect)
        #expect(Rect(x: 0, y: 0, width: -3, height: 2).width == 0)
    }

    @Test func extentsGiveFixedFirstThenFractionsThenShareTheRest() {
        let rect = Rect(x: 0, y: 0, width: 20, height: 10)
        #expect(rect.rows([.fixed(1), .fill, .fixed(2)]).map(\.height) == [1, 7, 2])
        #expect(rect.rows([.fixed(1), .fill, .fixed(2)]).map(\.y) == [0, 1, 8])
        #expect(rect.columns([.fill, .fraction(0.25), .fill]).map(\.width) == [8, 5, 7])
        #expect(rect.columns([.fill, .fraction(0.25), .fill]).map(\.x) == [0, 8, 13])
        #expect(rect.rows([.fixed(8), .fixed(8), .fill]).map(\.height) == [8, 2, 0])
    }

    @Test func textFitting() {
        #expect(Text.truncated("channels", width: 5) == "chan…")
        #expect(Text.truncated("chan", width: 5) == "chan")
        #expect(Text.truncated("chan", width: 0) == "")
        #expect(Text.padded("7", width: 3, alignment: .right) == "  7")
        #expect(Text.padded("ab", width: 5, alignment: .center) == " ab  ")
        #expect(Text.wrapped("Unsaved pruned model. Quit anyway?", width: 14)
            == ["Unsaved pruned", "model. Quit", "anyway?"])
        #expect(Text.wrapped("abcdefgh ij", width: 3) == ["abc", "def", "gh", "ij"])
        #expect(Text.wrapped("one\n\ntwo", width: 10) == ["one", "", "two"])
    }

    @Test func formats() {
        #expect(Format.duration(seconds: 65) == "1m05s")
        #expect(Format.duration(seconds: 42.9) == "42s")
        #expect(Format.duration(seconds: 3725) == "1h02m")
        #expect(Format.duration(seconds: 0) == "0s")
        #expect(Format.duration(seconds: 0.3) == "<1s")
        #expect(Format.duration(seconds: .nan) == "--")
        #expect(Format.rate(583.2, unit: "img") == "583 img/s")
        #expect(Format.rate(5.83, unit: "img") == "5.8 img/s")
        #expect(Format.rate(12_345, unit: "img") == "12.3k img/s")
        #expect(Format.percent(0.5) == "50%")
        #expect(Format.percent(0.425, decimals: 1) == "42.5%")
        #expect(Format.compact(21_903_104) == "21.9M")
        #expect(Format.compact(140_458) == "140k")
        #expect(Format.compact(4.089e9) == "4.09G")
        #expect(Format.compact(999_600) == "1.00M")
        #expect(Format.compact(980) == "980")
        #expect(Format.fixed(-0.04, decimals: 1) == "0.0")
        #expect(Format.fixed(-1.25, decimals: 1) == "-1.3")
        #expect(Format.fixed(3.05, decimals: 3) == "3.050")
    }

    @Test func scrollMovesAsLittleAsPossibleToShowTheIndex() {
        #expect(Scroll.offset(keeping: 2, visible: 5, count: 20, current: 0) == 0)
        #expect(Scroll.offset(keeping: 7, visible: 5, count: 20, current: 0) == 3)
        #expect(Scroll.offset(keeping: 1, visible: 5, count: 20, current: 10) == 1)
        #expect(Scroll.offset(keeping: nil, visible: 5, count: 20, current: 18) == 15)
        #expect(Scroll.offset(keeping: 3, visible: 5, count: 4, current: 2) == 0)
        #expect(Scroll.offset(keeping: 3, visible: 0, count: 4, current: 2) == 0)
    }

    @Test func keyNamesForHintsAndHelp() {
        #expect(Key.left.name == "←")
        #expect(Key.pageUp.name == "PgUp")
        #expect(Key.escape.name == "Esc")
        #expect(Key.character("?").name == "?")
        #expect(Key.character(" ").name == "Space")
        #expect(Key.interrupt.name == "Ctrl-C")
        #expect(Key.function(1).name == "F1")
        let q: Key = "q"
        #expect(q == .character("q"))
    }

    @Test func keyTableDispatchesToTheFirstBindingThatListsTheKey() {
        enum Action: Equatable { case up, top, quit }
        let table: KeyTable<Action> = [
            KeyBinding([.up, "k"], label: "up", action: .up),
            KeyBinding(["k", .home], label: "top", action: .top),
            KeyBinding(["q", .interrupt], label: "quit", help: "quit, asking first if unsaved", action: .quit),
        ]
        #expect(table.action(for: "k") == .up)
        #expect(table.action(for: .home) == .top)
        #expect(table.action(for: .interrupt) == .quit)
        #expect(table.action(for: "x") == nil)
        #expect(table.bindings[0].hintKeyText == "↑")
        #expect(table.bindings[2].helpKeyText == "q Ctrl-C")
        #expect(table.bindings[1].help == "top")
    }

    @Test func themeFollowsNoColorAndTheTerminal() {
        #expect(Theme.automatic(environment: [:], terminalHasColors: true) == .standard)
        #expect(Theme.automatic(environment: ["NO_COLOR": ""], terminalHasColors: true) == .standard)
        #expect(Theme.automatic(environment: ["NO_COLOR": "1"], terminalHasColors: true) == .monochrome)
        #expect(Theme.automatic(environment: [:], terminalHasColors: false) == .monochrome)
    }

    @Test func monochromeKeepsTheDistinctionsThatMatter() {
        let mono = Theme.monochrome
        #expect(!mono.usesColor)
        for role in Role.allCases {
            #expect(mono[role].foreground == .default && mono[role].background == .default)
        }
        #expect(mono[.pruned] != mono[.kept])
        #expect(mono[.selected] != mono[.normal])
        #expect(mono[.cursor] != mono[.bar])
        #expect(mono[.good] != mono[.bad])
        #expect(mono.appearance(for: Style(.pruned, bold: true, reversed: true)).attributes == [.dim, .bold, .reverse])
    }

    @Test func roleCodesAreDistinct() {
        #expect(Set(Role.allCases.map(\.code)).count == Role.allCases.count)
    }
}

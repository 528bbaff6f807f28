/// Anything that draws itself into a rectangle of a grid. Widgets must stay inside `area`.
public protocol Widget {
    func render(into grid: inout Grid, area: Rect)
}

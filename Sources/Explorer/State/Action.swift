import Canvas
import Pruning

public enum Action: Sendable {
    case key(Key)
    /// A command without going through the key table (tests, scripts).
    case command(Command)
    case resize(Size)
    case job(JobEvent)
}

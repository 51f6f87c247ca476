import Foundation

/// Where the running binary is, so the coordinator can start workers from the same build.
public enum SelfExecutable {
    public static var path: String {
        if let p = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return p }
        return CommandLine.arguments[0]
    }
}

/// Host name for worker identities.
public enum HostName {
    public static var current: String {
        var buf = [CChar](repeating: 0, count: 256)
        gethostname(&buf, buf.count)
        let s = String(cString: buf)
        return s.isEmpty ? "localhost" : s
    }
}

public enum Token {
    public static func make() -> String {
        let chars = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return String((0..<12).map { _ in chars[Int.random(in: 0..<chars.count)] })
    }
}

import Foundation

/// Tiny media files made by ffmpeg in a folder of their own, removed after the test.
struct Clips {
    let dir: String

    init() throws {
        dir = NSTemporaryDirectory() + "encoda-clips-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(atPath: dir) }

    /// `ffmpeg ARGS DIR/NAME`; the path made.
    func make(_ name: String, _ args: [String]) throws -> String {
        let path = dir + "/" + name
        let r = try Self.run("ffmpeg", ["-hide_banner", "-loglevel", "error", "-nostdin", "-y"] + args + [path])
        guard r.status == 0 else { throw NSError(domain: "ffmpeg", code: Int(r.status), userInfo: [NSLocalizedDescriptionKey: r.output]) }
        return path
    }

    /// The first `bytes` of `path`, as DIR/NAME.
    func cut(_ path: String, bytes: Int, to name: String) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let out = dir + "/" + name
        try data.prefix(bytes).write(to: URL(fileURLWithPath: out))
        return out
    }

    func size(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    }

    static func run(_ tool: String, _ args: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/" + tool)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

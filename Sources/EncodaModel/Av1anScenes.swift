/// Av1an's scenes.json: `{"scenes":[{"start_frame":0,"end_frame":75,"zone_overrides":null},...],"frames":N}`.
public struct Av1anScenes: Codable, Sendable {
    public struct Scene: Codable, Sendable {
        public var start_frame: Int
        public var end_frame: Int
        public var zone_overrides: String?
        public init(start_frame: Int, end_frame: Int) { self.start_frame = start_frame; self.end_frame = end_frame; zone_overrides = nil }
        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(start_frame, forKey: .start_frame)
            try c.encode(end_frame, forKey: .end_frame)
            try c.encodeNil(forKey: .zone_overrides)
        }
    }
    public var scenes: [Scene]
    public var frames: Int

    public init(shots: [FrameRange], frames: Int) {
        self.scenes = shots.map { Scene(start_frame: $0.start, end_frame: $0.end) }
        self.frames = frames
    }

    /// Cut frames (start of every scene but the first), checked against the input's frame count.
    public func cuts(frameCount: Int) throws -> [Int] {
        guard !scenes.isEmpty else { throw EncodaError(.usage, "the scenes file lists no scenes") }
        let sorted = scenes.sorted { $0.start_frame < $1.start_frame }
        guard sorted.first!.start_frame == 0 else {
            throw EncodaError(.usage, "the scenes file does not start at frame 0; give a scenes file made for this input")
        }
        var expect = 0
        for s in sorted {
            guard s.start_frame == expect, s.end_frame > s.start_frame else {
                throw EncodaError(.usage, "the scenes file has a gap or overlap at frame \(s.start_frame); scenes must be contiguous")
            }
            expect = s.end_frame
        }
        guard expect == frameCount else {
            throw EncodaError(.usage, "the scenes file covers \(expect) frames but INPUT has \(frameCount); give a scenes file made for this input")
        }
        return sorted.dropFirst().map(\.start_frame)
    }
}

/// Av1an's scenes.json: `{"scenes":[{"start_frame":0,"end_frame":75,"zone_overrides":null},...],"frames":N}`.
///
/// Newer Av1an versions also write `split_scenes`: the scenes after its extra splits of long scenes, one per
/// chunk. encoda reads the cuts from `scenes` and splits long shots itself (`--max-scene-length`), so a file's
/// `split_scenes` are not used; encoda writes them (its own splits) so that Av1an gets the file it expects.
/// A scene's `zone_overrides` (Av1an's per-zone encoder, passes and parameters, an object) are accepted and
/// ignored: encoda encodes every chunk with the same settings.
public struct Av1anScenes: Codable, Sendable {
    public struct Scene: Codable, Sendable {
        public var start_frame: Int
        public var end_frame: Int
        /// True when the file gave this scene zone overrides (any non-null value); their content is not read.
        public var hasZoneOverrides: Bool

        public init(start_frame: Int, end_frame: Int) {
            self.start_frame = start_frame; self.end_frame = end_frame; hasZoneOverrides = false
        }

        enum CodingKeys: String, CodingKey { case start_frame, end_frame, zone_overrides }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            start_frame = try c.decode(Int.self, forKey: .start_frame)
            end_frame = try c.decode(Int.self, forKey: .end_frame)
            hasZoneOverrides = c.contains(.zone_overrides) ? !(try c.decodeNil(forKey: .zone_overrides)) : false
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(start_frame, forKey: .start_frame)
            try c.encode(end_frame, forKey: .end_frame)
            try c.encodeNil(forKey: .zone_overrides)
        }
    }
    public var scenes: [Scene]
    /// Scenes after long ones were split (newer Av1an); nil when the file has none.
    public var split_scenes: [Scene]?
    public var frames: Int

    /// `shots`: the shots between cuts; `splitShots`: the same after long shots were split (written as
    /// `split_scenes`; nil leaves the key out).
    public init(shots: [FrameRange], splitShots: [FrameRange]? = nil, frames: Int) {
        self.scenes = shots.map { Scene(start_frame: $0.start, end_frame: $0.end) }
        self.split_scenes = splitShots.map { $0.map { Scene(start_frame: $0.start, end_frame: $0.end) } }
        self.frames = frames
    }

    /// How many of `scenes` carry zone overrides, which encoda ignores.
    public var scenesWithZoneOverrides: Int { scenes.filter(\.hasZoneOverrides).count }

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

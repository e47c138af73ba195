import MeetingKit

final class EchoModule: MeetingdModule {
    static let name = "echo"
    static let version = "1.0.0"
    static let methods = [
        MethodSpec("echo.say", summary: "Says it back.",
                   params: ["type": "object", "required": ["text"], "properties": ["text": ["type": "string"]]],
                   result: ["type": "string"]),
    ]
    init(context: ModuleContext) throws {}
    func handle(method: String, params: JSONValue) throws(MethodError) -> JSONValue {
        params["text"] ?? .null
    }
}

@_cdecl("meetingd_module_entry")
public func meetingdModuleEntry() -> UnsafeRawPointer { exportModule(EchoModule.self) }

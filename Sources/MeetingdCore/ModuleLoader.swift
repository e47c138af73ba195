// Loads handler modules through the C ABI in meetingd_module.h: dlopen, the
// entry symbol, the ABI version check, then the module's own description.
// Libraries are never dlclose'd: Swift code cannot be unloaded safely.

import CMeetingdModule
import Foundation
import Logging
import MeetingKit

public struct ModuleLoadError: Error, CustomStringConvertible {
    public let module: String
    public let path: String?
    public let reason: String
    public var description: String { "module '\(module)'\(path.map { " (\($0))" } ?? ""): \(reason)" }
}

public struct MethodInfo: Sendable {
    public let name: String
    public let summary: String
    public let paramsSchema: JSONValue
    public let resultSchema: JSONValue
}

/// A loaded module library: its description and the settings its instances open with.
public final class LoadedModule: @unchecked Sendable {
    public let name: String
    public let version: String
    public let path: String
    public let methods: [MethodInfo]
    let description: UnsafePointer<meetingd_module>
    /// The description's fields as far as the module's ABI version has them (later ones nil).
    let functions: meetingd_module
    let settingsJSON: String
    let logContext: ModuleLogContext
    /// The library file as it was when loaded: a file changed since cannot be loaded
    /// again in this process (dlopen hands back the copy already mapped).
    let fileIdentity: FileIdentity?

    init(description: UnsafePointer<meetingd_module>, functions: meetingd_module, path: String, name: String, version: String,
         methods: [MethodInfo], settings: JSONValue, fileIdentity: FileIdentity?) {
        self.description = description
        self.functions = functions
        self.path = path
        self.name = name
        self.version = version
        self.methods = methods
        self.settingsJSON = settings.serialized
        self.logContext = ModuleLogContext(logger: Logger(label: "module.\(name)"))
        self.fileIdentity = fileIdentity
    }

    /// The same library, opened from now on with other settings.
    func with(settings: JSONValue) -> LoadedModule {
        LoadedModule(description: description, functions: functions, path: path, name: name, version: version,
                     methods: methods, settings: settings, fileIdentity: fileIdentity)
    }

    /// Opens one instance, for one worker thread.
    func open(corpusPath: String) throws(ModuleLoadError) -> ModuleInstance {
        var instance: UnsafeMutableRawPointer?
        var error: UnsafePointer<CChar>?
        let status = functions.open(
            description, settingsJSON, corpusPath, moduleLog, Unmanaged.passUnretained(logContext).toOpaque(),
            &instance, &error)
        guard status == 0, let instance else {
            throw ModuleLoadError(module: name, path: path,
                                  reason: "open failed: \(error.map { String(cString: $0) } ?? "no reason given")")
        }
        return ModuleInstance(module: self, handle: instance)
    }
}

/// One module instance, owned by one worker thread.
final class ModuleInstance {
    let module: LoadedModule
    let handle: UnsafeMutableRawPointer

    init(module: LoadedModule, handle: UnsafeMutableRawPointer) {
        self.module = module
        self.handle = handle
    }

    /// Whether the module takes a running-time budget (ABI 2's optional set_deadline).
    var takesDeadline: Bool { module.functions.set_deadline != nil }

    /// `deadline`: CLOCK_MONOTONIC nanoseconds at which the call's budget ends.
    func call(method: String, params: UnsafeRawBufferPointer, deadline: UInt64, reply: inout meetingd_reply) {
        reply = meetingd_reply()
        module.functions.set_deadline?(handle, Int64(clamping: deadline))
        _ = module.functions.handle(handle, method, params.baseAddress?.assumingMemoryBound(to: CChar.self),
                                              params.count, &reply)
    }

    func close() { module.functions.close(handle) }
}

final class ModuleLogContext: @unchecked Sendable {
    let logger: Logger
    init(logger: Logger) { self.logger = logger }
}

private let moduleLog: @convention(c) (UnsafeMutableRawPointer?, Int32, UnsafePointer<CChar>?) -> Void = { context, level, message in
    guard let context, let message else { return }
    let logger = Unmanaged<ModuleLogContext>.fromOpaque(context).takeUnretainedValue().logger
    let text = String(cString: message)
    switch level {
    case ...3: logger.error("\(text)")
    case 4: logger.warning("\(text)")
    case 5, 6: logger.info("\(text)")
    default: logger.debug("\(text)")
    }
}

public enum ModuleLoader {
    /// ABI 1 lacks set_deadline: such a module is loaded and runs without a budget; ABI 1
    /// and 2 lack meetingkit_build, which only Swift modules set.
    static let abiVersions: ClosedRange<UInt32> = 1...UInt32(MEETINGD_ABI_VERSION)

    /// Loads every enabled module of `config`, refusing anything that would leave the
    /// daemon half-working: a missing file, a missing entry symbol, another ABI
    /// version, a bad description, or a module or method name seen twice.
    ///
    /// On a reload, `loaded` holds the modules already in the process: a library at the
    /// same path is reused with its new settings, and one whose file has changed since
    /// keeps its old code and is named in `restartNeeded`.
    public static func loadAll(_ config: MeetingdConfig, reserved: Set<String>, loaded: [LoadedModule] = [],
                               restartNeeded: inout [String]) throws(ModuleLoadError) -> [LoadedModule] {
        var modules: [LoadedModule] = []
        var seenMethods = reserved
        var seenModules = Set<String>()
        for moduleConfig in config.enabledModules {
            let path = try locate(moduleConfig, in: config.moduleDirs)
            let module: LoadedModule
            if let previous = loaded.first(where: { $0.path == path }) {
                guard previous.name == moduleConfig.name else {
                    throw ModuleLoadError(module: moduleConfig.name, path: path,
                                          reason: "the library is module '\(previous.name)', but the config enables it as '\(moduleConfig.name)'")
                }
                if FileIdentity(path: path) != previous.fileIdentity {
                    restartNeeded.append("module '\(previous.name)': \(path) changed on disk; the old code stays loaded until a restart")
                }
                module = previous.with(settings: moduleConfig.settings)
            } else {
                if let risk = insecurity(ofLibrary: path) {
                    guard config.allowInsecureModules else {
                        throw ModuleLoadError(module: moduleConfig.name, path: path,
                                              reason: "refused: \(risk), so someone else could choose the code the daemon runs; "
                                                + "fix the permissions (or set allow_insecure_modules: true)")
                    }
                    Logger(label: "meetingd").critical("loading an insecure module (allow_insecure_modules is set): \(risk)",
                                                       metadata: ["module": "\(moduleConfig.name)", "path": "\(path)"])
                }
                module = try load(path: path, expectedName: moduleConfig.name, settings: moduleConfig.settings)
            }
            guard seenModules.insert(module.name).inserted else {
                throw ModuleLoadError(module: module.name, path: path, reason: "another loaded module is already named '\(module.name)'")
            }
            for method in module.methods {
                guard seenMethods.insert(method.name).inserted else {
                    throw ModuleLoadError(module: module.name, path: path, reason: "duplicate method name '\(method.name)'")
                }
            }
            modules.append(module)
        }
        // A budget for a method nothing serves is most likely a typo: the default would apply unseen.
        for method in config.limits.methodRunningMs.keys.sorted() where !seenMethods.contains(method) {
            Logger(label: "meetingd").warning(
                "limits.method_running_ms names \(method), which no loaded module serves; it has no effect",
                metadata: ["method": "\(method)"])
        }
        return modules
    }

    static func locate(_ module: ModuleConfig, in directories: [String]) throws(ModuleLoadError) -> String {
        if let path = module.path {
            guard FileManager.default.fileExists(atPath: path) else {
                throw ModuleLoadError(module: module.name, path: path, reason: "no such file")
            }
            return path
        }
        let candidates = directories.flatMap { ["\($0)/\(module.name).so", "\($0)/lib\(module.name).so"] }
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw ModuleLoadError(module: module.name, path: nil,
                                  reason: "no library found; looked for \(candidates.joined(separator: ", "))")
        }
        return found
    }

    /// What would let a user other than root or the daemon's own replace the library at
    /// `path` (or, through its folder, the file the path names), or nil when nothing would.
    static func insecurity(ofLibrary path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return "cannot resolve \(path)" }
        defer { free(resolved) }
        let library = String(cString: resolved)
        let folder = URL(fileURLWithPath: library).deletingLastPathComponent().path
        for (what, item) in [("library", library), ("folder", folder)] {
            var status = stat()
            guard stat(item, &status) == 0 else { return "cannot stat the \(what) \(item)" }
            if status.st_mode & (S_IWGRP | S_IWOTH) != 0 {
                return "the \(what) \(item) is writable by its group or by everyone (mode \(String(status.st_mode & 0o7777, radix: 8)))"
            }
            if status.st_uid != 0 && status.st_uid != geteuid() {
                return "the \(what) \(item) is owned by uid \(status.st_uid), neither root nor the daemon's user"
            }
        }
        return nil
    }

    static func load(path: String, expectedName: String, settings: JSONValue) throws(ModuleLoadError) -> LoadedModule {
        func failure(_ reason: String) -> ModuleLoadError { ModuleLoadError(module: expectedName, path: path, reason: reason) }

        guard let library = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw failure("dlopen failed: \(String(cString: dlerror()))")
        }
        guard let symbol = dlsym(library, MEETINGD_MODULE_ENTRY) else {
            throw failure("no entry symbol '\(MEETINGD_MODULE_ENTRY)' exported")
        }
        let entry = unsafeBitCast(symbol, to: meetingd_module_entry_fn.self)
        guard let description = entry() else { throw failure("the entry function returned no description") }
        // Only the first field is read before the version is known to match.
        let abiVersion = UnsafeRawPointer(description).load(as: UInt32.self)
        guard Self.abiVersions.contains(abiVersion) else {
            throw failure("ABI version \(abiVersion) does not match the daemon's ABI versions "
                          + "(\(Self.abiVersions.lowerBound) to \(MEETINGD_ABI_VERSION)); rebuild it against this meetingd_module.h")
        }
        // An older description is shorter: only its own fields are read, the rest stay nil.
        var module = meetingd_module()
        let size = switch abiVersion {
        case 1: MemoryLayout<meetingd_module>.offset(of: \meetingd_module.set_deadline)!
        case 2: MemoryLayout<meetingd_module>.offset(of: \meetingd_module.meetingkit_build)!
        default: MemoryLayout<meetingd_module>.size
        }
        withUnsafeMutableBytes(of: &module) { $0.copyMemory(from: UnsafeRawBufferPointer(start: description, count: size)) }
        // Swift code from another MeetingKit build (or compiler) would misread this library's types.
        if let build = module.meetingkit_build.map({ String(cString: $0) }), build != MeetingKitBuild.fingerprint {
            throw failure("refused: the module was built against \(build), but this daemon's libMeetingKit.so is "
                          + "\(MeetingKitBuild.fingerprint); rebuild the module against this daemon's MeetingKit "
                          + "(meetingd-dev) with the same Swift version")
        }
        guard let namePointer = module.name, module.open != nil, module.handle != nil, module.close != nil else {
            throw failure("the description lacks a name or one of open, handle, close")
        }
        let name = String(cString: namePointer)
        guard name == expectedName else {
            throw failure("the library is module '\(name)', but the config enables it as '\(expectedName)'")
        }
        guard name.range(of: #"^[a-z][a-z0-9_]*$"#, options: .regularExpression) != nil else {
            throw failure("module name '\(name)' must be lower case letters, digits and underscores")
        }
        var methods: [MethodInfo] = []
        var names = Set<String>()
        for i in 0..<module.method_count {
            let method = module.methods[i]
            guard let methodName = method.name.map({ String(cString: $0) }) else { throw failure("method \(i) has no name") }
            guard methodName.hasPrefix(name + "."), methodName.count > name.count + 1 else {
                throw failure("method '\(methodName)' must be named '\(name).<operation>'")
            }
            guard names.insert(methodName).inserted else { throw failure("duplicate method name '\(methodName)'") }
            func schema(_ text: UnsafePointer<CChar>?, _ which: String) throws(ModuleLoadError) -> JSONValue {
                guard let text else { return .object([:]) }
                do { return try JSONValue.parse(String(cString: text)) } catch {
                    throw failure("method '\(methodName)': the \(which) schema is not valid JSON: \(error)")
                }
            }
            methods.append(MethodInfo(
                name: methodName, summary: method.summary.map { String(cString: $0) } ?? "",
                paramsSchema: try schema(method.params_schema, "params"),
                resultSchema: try schema(method.result_schema, "result")))
        }
        return LoadedModule(description: description, functions: module, path: path, name: name,
                            version: module.version.map { String(cString: $0) } ?? "unknown",
                            methods: methods, settings: settings, fileIdentity: FileIdentity(path: path))
    }
}

/// Which file a path named, and its state, when a module was loaded.
struct FileIdentity: Equatable, Sendable {
    let device: UInt64
    let inode: UInt64
    let size: Int64
    let modified: Int

    init?(path: String) {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        device = UInt64(status.st_dev)
        inode = UInt64(status.st_ino)
        size = Int64(status.st_size)
        modified = status.st_mtim.tv_sec * 1_000_000_000 + status.st_mtim.tv_nsec
    }
}

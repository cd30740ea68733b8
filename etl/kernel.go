package etl

// Kernel event groups (EVENT_TRACE_GROUP_*, the high byte of a SYSTEM or
// PERFINFO record's hook id) and the provider GUIDs their events are known by
// (the MOF classes of the NT Kernel Logger: EventTrace, Process, Thread, ...).
var kernelGroups = [...]GUID{
	0x00: MustParseGUID("68fdd900-4a3e-11d1-84f4-0000f80464e3"), // EventTrace (header)
	0x01: MustParseGUID("3d6fa8d4-fe05-11d0-9dda-00c04fd7ba7c"), // DiskIo
	0x02: MustParseGUID("3d6fa8d3-fe05-11d0-9dda-00c04fd7ba7c"), // PageFault (memory)
	0x03: MustParseGUID("3d6fa8d0-fe05-11d0-9dda-00c04fd7ba7c"), // Process
	0x04: MustParseGUID("90cbdc39-4a3e-11d1-84f4-0000f80464e3"), // FileIo
	0x05: MustParseGUID("3d6fa8d1-fe05-11d0-9dda-00c04fd7ba7c"), // Thread
	0x06: MustParseGUID("9a280ac0-c8e0-11d1-84e2-00c04fb998a2"), // TcpIp
	0x08: MustParseGUID("bf3a50c5-a9c9-4988-a005-2df0b7c80f80"), // UdpIp
	0x09: MustParseGUID("ae53722e-c863-11d2-8659-00c04fa321a1"), // Registry
	0x0B: MustParseGUID("01853a65-418f-4f36-aefc-dc0f1d2fd235"), // SystemConfig
	0x0E: MustParseGUID("0268a8b6-74fd-4302-9dd0-6e8f1795c0cf"), // Pool
	0x0F: MustParseGUID("ce1dbfb4-137e-4da6-87b0-3f59aa102cbc"), // PerfInfo
	0x10: MustParseGUID("222962ab-6180-4b88-a825-346b75f2a24a"), // Heap
	0x11: MustParseGUID("89497f50-effe-4440-8cf2-ce6b1cdcaca7"), // ObTrace (object)
	0x12: MustParseGUID("e43445e0-0903-48c3-b878-ff0fccebdd04"), // Power
	0x14: MustParseGUID("2cb15d1d-5fc1-11d2-abe1-00a0c911f518"), // Image
	0x17: MustParseGUID("3ac66736-cc59-4cff-8115-8df50e39816b"), // CritSec
	0x18: MustParseGUID("def2fe46-7bd6-4b80-bd94-f57fe20d0ce3"), // StackWalk
	0x1A: MustParseGUID("45d8cccd-539f-4b72-a8b7-5c683142609a"), // ALPC
	0x1B: MustParseGUID("d837ca92-12b9-44a5-ad6a-3a65b3578aa8"), // SplitIo
	0x1C: MustParseGUID("c861d0e2-a2c1-4d36-9f9c-970bab943a12"), // ThreadPool
}

// KernelGroupGUID returns the provider GUID of kernel event group g. Groups
// without a known class get a placeholder GUID whose last byte is the group,
// {00000000-0000-0000-0000-0000000000gg}, so they still count separately.
func KernelGroupGUID(g uint8) GUID {
	if int(g) < len(kernelGroups) && !kernelGroups[g].IsZero() {
		return kernelGroups[g]
	}
	return GUID{Data4: [8]byte{7: g}}
}

// EventTraceGUID is the provider of the logfile header record and the other
// trace-session events of kernel group 0.
var EventTraceGUID = kernelGroups[0]

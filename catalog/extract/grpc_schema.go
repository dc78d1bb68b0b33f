package extract

// The gRPC methods of Google's Gemini APIs, with their request messages named as their JSON
// form names them (grpc.go). Field numbers are those of the published .proto files
// (googleapis: google/cloud/aiplatform/{v1,v1beta1}/{prediction_service,content,tool}.proto,
// google/ai/generativelanguage/{v1,v1beta}/{generative_service,content}.proto,
// google/protobuf/struct.proto). Vertex AI and the Gemini API number the same messages
// differently (Content, Part, GenerateContentRequest); Blob and FileData agree. Only fields that
// can carry text are named: the others are numbers or enums, never emitted, or are walked by
// number (an empty schema) where their numbers were not checked.

var (
	vertexGRPC, vertexGRPCResponse = buildVertexGRPC()
	geminiGRPC, geminiGRPCResponse = buildGeminiGRPC()
)

// grpcResponses names the answer message of each gRPC shape, for ExtractResponse.
var grpcResponses = map[string]*pbMessage{
	"vertex.gemini":          vertexGRPCResponse,
	"gemini.generateContent": geminiGRPCResponse,
}

// grpcAPIs are the shapes served over gRPC, on paths of their own (/package.Service/Method).
// Their Body reads what is not gRPC (gRPC-Web, Connect, JSON) on those paths; a gRPC body is
// read by the request walker whatever the shape (extract.go).
var grpcAPIs = []API{
	{Name: "vertex.gemini", Vendors: []string{"google-vertex-ai"}, Method: "POST",
		Paths: grpcPaths([]string{"google.cloud.aiplatform.v1.PredictionService", "google.cloud.aiplatform.v1beta1.PredictionService"},
			"GenerateContent", "StreamGenerateContent", "CountTokens"),
		Body: connectProtoBody, Skip: aiSkip, Response: responseFunc("vertex.gemini"), grpc: vertexGRPC},
	{Name: "gemini.generateContent", Vendors: []string{"google-gemini"}, Method: "POST",
		Paths: grpcPaths([]string{"google.ai.generativelanguage.v1beta.GenerativeService", "google.ai.generativelanguage.v1.GenerativeService",
			"google.ai.generativelanguage.v1alpha.GenerativeService"},
			"GenerateContent", "StreamGenerateContent", "CountTokens", "EmbedContent", "BatchEmbedContents"),
		Body: connectProtoBody, Skip: aiSkip, Response: responseFunc("gemini.generateContent"), grpc: geminiGRPC},
}

func grpcPaths(services []string, methods ...string) []string {
	var out []string
	for _, s := range services {
		for _, m := range methods {
			out = append(out, "/"+s+"/"+m)
		}
	}
	return out
}

// pbMsg builds a message schema.
func pbMsg(fields map[int]pbField) *pbMessage { return &pbMessage{fields: fields} }

// pbOpaque is a message whose fields are read by number.
func pbOpaque() *pbMessage { return &pbMessage{} }

// structSchema is google.protobuf.Struct, read as the JSON object it stands for: its map's
// entries are named by key, and a Value (null 1, number 2, string 3, bool 4, struct 5, list 6)
// stands for itself, as in JSON: args.location, args.stops[0].name. It returns Value too.
func structSchema() (st, value *pbMessage) {
	st, value = pbMsg(nil), pbMsg(nil)
	entry := &pbMessage{mapEntry: true, fields: map[int]pbField{1: {name: "key"}, 2: {name: "value", msg: value}}}
	st.fields = map[int]pbField{1: {msg: entry, repeated: true}}    // fields
	list := pbMsg(map[int]pbField{1: {msg: value, repeated: true}}) // ListValue.values
	value.fields = map[int]pbField{3: {}, 5: {msg: st}, 6: {msg: list}}
	return st, value
}

// stringMap is a map<string, string> (labels): labels.team.
func stringMap() *pbMessage {
	return &pbMessage{mapEntry: true, fields: map[int]pbField{1: {name: "key"}, 2: {name: "value"}}}
}

var (
	pbBlob     = pbMsg(map[int]pbField{1: {name: "mimeType"}, 2: {name: "data", binary: true, mimeField: 1}})
	pbFileData = pbMsg(map[int]pbField{1: {name: "mimeType"}, 2: {name: "fileUri"}})
)

// buildVertexGRPC: google.cloud.aiplatform.v1 (v1beta1 numbers the same fields alike).
func buildVertexGRPC() (map[string]*pbMessage, *pbMessage) {
	st, value := structSchema()
	part := pbMsg(map[int]pbField{
		1: {name: "text"},
		2: {name: "inlineData", msg: pbBlob},
		3: {name: "fileData", msg: pbFileData},
		5: {name: "functionCall", msg: pbMsg(map[int]pbField{1: {name: "name"}, 2: {name: "args", msg: st}})},
		6: {name: "functionResponse", msg: pbMsg(map[int]pbField{1: {name: "name"}, 2: {name: "response", msg: st}})},
		8: {name: "executableCode", msg: pbOpaque()},
		9: {name: "codeExecutionResult", msg: pbOpaque()},
	})
	content := pbMsg(map[int]pbField{1: {name: "role"}, 2: {name: "parts", msg: part, repeated: true}})
	decl := pbMsg(map[int]pbField{1: {name: "name"}, 2: {name: "description"}, 3: {name: "parameters", msg: pbOpaque()}})
	tool := pbMsg(map[int]pbField{1: {name: "functionDeclarations", msg: decl, repeated: true}})
	genConfig := pbMsg(map[int]pbField{6: {name: "stopSequences", repeated: true}, 13: {name: "responseMimeType"}})
	generate := pbMsg(map[int]pbField{
		5:  {name: "model"},
		2:  {name: "contents", msg: content, repeated: true},
		8:  {name: "systemInstruction", msg: content},
		9:  {name: "cachedContent"},
		6:  {name: "tools", msg: tool, repeated: true},
		7:  {name: "toolConfig", msg: pbOpaque()},
		10: {name: "labels", msg: stringMap(), repeated: true},
		3:  {name: "safetySettings", msg: pbOpaque(), repeated: true},
		11: {name: "modelArmorConfig", msg: pbOpaque()},
		4:  {name: "generationConfig", msg: genConfig},
	})
	count := pbMsg(map[int]pbField{
		1: {name: "endpoint"},
		3: {name: "model"},
		2: {name: "instances", msg: value, repeated: true},
		4: {name: "contents", msg: content, repeated: true},
		5: {name: "systemInstruction", msg: content},
		6: {name: "tools", msg: tool, repeated: true},
		7: {name: "generationConfig", msg: genConfig},
	})
	candidate := pbMsg(map[int]pbField{2: {name: "content", msg: content}, 5: {name: "finishMessage"}})
	response := pbMsg(map[int]pbField{
		2:  {name: "candidates", msg: candidate, repeated: true},
		3:  {name: "promptFeedback", msg: pbMsg(map[int]pbField{3: {name: "blockReasonMessage"}})},
		11: {name: "modelVersion", served: true},
		13: {name: "responseId"},
	})
	return map[string]*pbMessage{"GenerateContent": generate, "StreamGenerateContent": generate, "CountTokens": count}, response
}

// buildGeminiGRPC: google.ai.generativelanguage.v1beta (v1 and v1alpha number alike).
func buildGeminiGRPC() (map[string]*pbMessage, *pbMessage) {
	st, _ := structSchema()
	part := pbMsg(map[int]pbField{
		2:  {name: "text"},
		3:  {name: "inlineData", msg: pbBlob},
		4:  {name: "functionCall", msg: pbMsg(map[int]pbField{3: {name: "id"}, 1: {name: "name"}, 2: {name: "args", msg: st}})},
		5:  {name: "functionResponse", msg: pbMsg(map[int]pbField{3: {name: "id"}, 1: {name: "name"}, 2: {name: "response", msg: st}})},
		6:  {name: "fileData", msg: pbFileData},
		9:  {name: "executableCode", msg: pbMsg(map[int]pbField{2: {name: "code"}})},
		10: {name: "codeExecutionResult", msg: pbMsg(map[int]pbField{2: {name: "output"}})},
	})
	content := pbMsg(map[int]pbField{1: {name: "parts", msg: part, repeated: true}, 2: {name: "role"}})
	decl := pbMsg(map[int]pbField{1: {name: "name"}, 2: {name: "description"}, 3: {name: "parameters", msg: pbOpaque()},
		4: {name: "response", msg: pbOpaque()}})
	tool := pbMsg(map[int]pbField{1: {name: "functionDeclarations", msg: decl, repeated: true}})
	genConfig := pbMsg(map[int]pbField{2: {name: "stopSequences", repeated: true}, 13: {name: "responseMimeType"}})
	generate := pbMsg(map[int]pbField{
		1: {name: "model"},
		8: {name: "systemInstruction", msg: content},
		2: {name: "contents", msg: content, repeated: true},
		5: {name: "tools", msg: tool, repeated: true},
		7: {name: "toolConfig", msg: pbOpaque()},
		3: {name: "safetySettings", msg: pbOpaque(), repeated: true},
		4: {name: "generationConfig", msg: genConfig},
		9: {name: "cachedContent"},
	})
	count := pbMsg(map[int]pbField{1: {name: "model"}, 2: {name: "contents", msg: content, repeated: true},
		3: {name: "generateContentRequest", msg: generate}})
	embed := pbMsg(map[int]pbField{1: {name: "model"}, 2: {name: "content", msg: content}, 4: {name: "title"}})
	batch := pbMsg(map[int]pbField{1: {name: "model"}, 2: {name: "requests", msg: embed, repeated: true}})
	candidate := pbMsg(map[int]pbField{1: {name: "content", msg: content}})
	response := pbMsg(map[int]pbField{1: {name: "candidates", msg: candidate, repeated: true}})
	return map[string]*pbMessage{"GenerateContent": generate, "StreamGenerateContent": generate, "CountTokens": count,
		"EmbedContent": embed, "BatchEmbedContents": batch}, response
}

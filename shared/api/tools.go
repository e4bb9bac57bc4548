package api

import (
	"net/http"
	"time"

	"github.com/batchplane/batchplane/shared/batches"
)

// toolsRoutes binds the routes of the tools function (seed 002's style:
// snake_case, bare JSON).
func (s *Server) toolsRoutes() []endpoint {
	return []endpoint{
		op("tools.list", http.StatusOK, bare, s.handleToolsList),
		op("tools.add", http.StatusCreated, bare, s.handleToolAdd),
		op("tools.get", http.StatusOK, bare, s.handleToolGet),
		op("tools.delete", http.StatusOK, bare, s.handleToolDelete),
	}
}

// hardwareJSON is seed 002's hardware: vCPUs, MiB, filesystem ids.
type hardwareJSON struct {
	Filesystems []string `json:"filesystems"`
	Memory      int      `json:"memory"`
	CPU         float64  `json:"cpu"`
}

// hardwareInput is hardware in a request; absent members default.
type hardwareInput struct {
	Filesystems []string `json:"filesystems"`
	Memory      *int     `json:"memory"`
	CPU         *float64 `json:"cpu"`
}

func (h *hardwareInput) domain() *batches.HardwareInput {
	if h == nil {
		return nil
	}
	return &batches.HardwareInput{CPU: h.CPU, Memory: h.Memory, Filesystems: h.Filesystems}
}

func hardwareOut(h batches.Hardware) hardwareJSON {
	fs := h.Filesystems
	if fs == nil {
		fs = []string{}
	}
	return hardwareJSON{Filesystems: fs, Memory: h.Memory, CPU: h.CPU}
}

// toolJSON is a tool.
type toolJSON struct {
	ToolID      string       `json:"tool_id" pattern:"^T-[0-9A-F]{8}$"`
	ID          int64        `json:"id"`
	Name        string       `json:"name"`
	Version     string       `json:"version"`
	Title       string       `json:"title"`
	Description string       `json:"description"`
	Image       string       `json:"image"`
	Command     []string     `json:"command"`
	Hardware    hardwareJSON `json:"hardware"`
	Created     time.Time    `json:"created"`
}

func toolOut(t batches.Tool) toolJSON {
	return toolJSON{ToolID: t.ID, ID: t.Number, Name: t.Name, Version: t.Version, Title: t.Title, Description: t.Description,
		Image: t.Image, Command: t.Command, Hardware: hardwareOut(t.Hardware), Created: t.CreatedAt}
}

// toolInput is POST /tools.
type toolInput struct {
	Name        *string        `json:"name"`
	Version     *string        `json:"version"`
	Title       *string        `json:"title"`
	Description *string        `json:"description"`
	Image       *string        `json:"image"`
	Command     []string       `json:"command"`
	Hardware    *hardwareInput `json:"hardware"`
}

func (toolInput) requiredFields() []string { return []string{"name", "version", "command", "hardware"} }

// toolCreatedJSON answers POST /tools.
type toolCreatedJSON struct {
	ToolID string `json:"tool_id"`
	ID     int64  `json:"id"`
}

// deletedJSON answers a DELETE.
type deletedJSON struct {
	Deleted int `json:"deleted"`
}

// handleToolsList handles "GET /tools".
func (s *Server) handleToolsList(r *http.Request, _ *noBody) (*list[[]toolJSON], error) {
	pg, err := barePage(r)
	if err != nil {
		return nil, err
	}
	ts, next, err := s.deps.Batches.ListTools(r.Context(), pg)
	if err != nil {
		return nil, err
	}
	out := make([]toolJSON, len(ts))
	for i, t := range ts {
		out[i] = toolOut(t)
	}
	return &list[[]toolJSON]{items: out, next: next}, nil
}

// handleToolAdd handles "POST /tools".
func (s *Server) handleToolAdd(r *http.Request, in *toolInput) (*toolCreatedJSON, error) {
	t, err := s.deps.Batches.CreateTool(r.Context(), batches.ToolInput{Name: in.Name, Version: in.Version, Title: in.Title,
		Description: in.Description, Image: in.Image, Command: in.Command, Hardware: in.Hardware.domain()})
	if err != nil {
		return nil, err
	}
	setLocation(r, "/tools/"+t.ID)
	return &toolCreatedJSON{ToolID: t.ID, ID: t.Number}, nil
}

// handleToolGet handles "GET /tools/{tool_id}".
func (s *Server) handleToolGet(r *http.Request, _ *noBody) (*toolJSON, error) {
	t, err := s.deps.Batches.GetTool(r.Context(), Param(r, "tool_id"))
	if err != nil {
		return nil, err
	}
	out := toolOut(t)
	return &out, nil
}

// handleToolDelete handles "DELETE /tools/{tool_id}".
func (s *Server) handleToolDelete(r *http.Request, _ *noBody) (*deletedJSON, error) {
	if err := s.deps.Batches.DeleteTool(r.Context(), Param(r, "tool_id")); err != nil {
		return nil, err
	}
	return &deletedJSON{Deleted: 1}, nil
}

package hooks

import (
	"github.com/vigil-ispm/vigil/internal/httpjson"

	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// maxAPIBody bounds a JSON request body.
const maxAPIBody = 1 << 20

// Mux is where RegisterAPI adds its routes: the server's *http.ServeMux,
// or a recorder in tests that check every registered route is documented.
type Mux interface {
	Handle(pattern string, handler http.Handler)
}

// RegisterAPI adds the JSON API of integrations to mux, every route
// wrapped by guard, which the caller uses to require a signed-in user with
// the right to manage hooks (guard may be nil for none). Routes:
//
//	GET    /api/v1/hooks                          list integrations
//	POST   /api/v1/hooks                          create (201, the secret shown once)
//	POST   /api/v1/hooks/test                     Test Connection before Save
//	GET    /api/v1/hooks/automations              every automation
//	GET    /api/v1/hooks/deliveries               deliveries (?hook=&issueId=&eventId=&status=&before=&limit=)
//	POST   /api/v1/hooks/deliveries/resend        resend {"ids": [...]}
//	GET    /api/v1/hooks/{id}                     one integration
//	PUT    /api/v1/hooks/{id}                     edit (empty key values keep the saved ones)
//	DELETE /api/v1/hooks/{id}                     delete
//	POST   /api/v1/hooks/{id}/test                Test Connection of the saved integration
//	POST   /api/v1/hooks/{id}/rotate-secret       new secret {"graceSeconds": n}
//	GET    /api/v1/hooks/{id}/automation          its automation
//	PUT    /api/v1/hooks/{id}/automation          Add automation / edit it
//	POST   /api/v1/hooks/{id}/pause               pause {"reason": "…"}
//	POST   /api/v1/hooks/{id}/resume              resume, sending what is held
//	GET    /api/v1/hooks/{id}/deliveries          its deliveries (same query)
//	GET    /api/v1/hooks/{id}/deliveries/{did}    one delivery with its attempts
//	POST   /api/v1/hooks/{id}/resend-dead         resend its dead letters
//
// {id} is an integration's id or name. Errors are
// {"error": {"code": "…", "message": "…", "field": "…"}}.
func (s *Service) RegisterAPI(mux Mux, guard func(http.Handler) http.Handler) {
	if guard == nil {
		guard = func(h http.Handler) http.Handler { return h }
	}
	handle := func(pattern string, fn func(w http.ResponseWriter, r *http.Request) error) {
		mux.Handle(pattern, guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := fn(w, r); err != nil {
				s.writeError(w, r, err)
			}
		})))
	}
	handle("GET /api/v1/hooks", s.apiList)
	handle("POST /api/v1/hooks", s.apiCreate)
	handle("POST /api/v1/hooks/test", s.apiTestUnsaved)
	handle("GET /api/v1/hooks/automations", s.apiAutomations)
	handle("GET /api/v1/hooks/deliveries", s.apiDeliveries)
	handle("POST /api/v1/hooks/deliveries/resend", s.apiResend)
	handle("GET /api/v1/hooks/{id}", s.apiGet)
	handle("PUT /api/v1/hooks/{id}", s.apiUpdate)
	handle("DELETE /api/v1/hooks/{id}", s.apiDelete)
	handle("POST /api/v1/hooks/{id}/test", s.apiTestSaved)
	handle("POST /api/v1/hooks/{id}/rotate-secret", s.apiRotate)
	handle("GET /api/v1/hooks/{id}/automation", s.apiGetAutomation)
	handle("PUT /api/v1/hooks/{id}/automation", s.apiSetAutomation)
	handle("POST /api/v1/hooks/{id}/pause", s.apiPause)
	handle("POST /api/v1/hooks/{id}/resume", s.apiResume)
	handle("GET /api/v1/hooks/{id}/deliveries", s.apiDeliveries)
	handle("GET /api/v1/hooks/{id}/deliveries/{did}", s.apiDelivery)
	handle("POST /api/v1/hooks/{id}/resend-dead", s.apiResendDead)
}

func (s *Service) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var body httpjson.ErrorBody
	status := http.StatusInternalServerError
	var inv *InvalidError
	var conflict *ConflictError
	switch {
	case errors.As(err, &inv):
		status, body.Error.Code, body.Error.Message, body.Error.Field = http.StatusBadRequest, "invalid", inv.Message, inv.Field
	case errors.As(err, &conflict):
		status, body.Error.Code, body.Error.Message = http.StatusConflict, "conflict", conflict.Message
	case errors.Is(err, ErrNotFound):
		status, body.Error.Code, body.Error.Message = http.StatusNotFound, "not_found", err.Error()
	default:
		s.cfg.Logger.Error("hooks API request failed", "method", r.Method, "path", r.URL.Path, "error", err)
		body.Error.Code, body.Error.Message = "internal", "The request failed on the server; the log has the details."
	}
	httpjson.Write(w, status, body)
}

// decode reads a JSON body into v; an empty body leaves v as is.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	err := httpjson.Decode(w, r, v, maxAPIBody)
	var be *httpjson.BodyError
	switch {
	case errors.Is(err, httpjson.ErrEmpty):
		return nil
	case errors.As(err, &be):
		return invalid("body", be.Message)
	}
	return err
}

func (s *Service) apiList(w http.ResponseWriter, r *http.Request) error {
	list, err := s.List(r.Context())
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"integrations": list})
	return nil
}

// created is the answer to create and rotate: the one time a secret is shown.
type created struct {
	Integration *Integration `json:"integration,omitempty"`
	Secret      string       `json:"signingSecret"`
}

func (s *Service) apiCreate(w http.ResponseWriter, r *http.Request) error {
	var in Input
	if err := decode(w, r, &in); err != nil {
		return err
	}
	v, whsec, err := s.Create(r.Context(), in)
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusCreated, created{Integration: v, Secret: whsec})
	return nil
}

func (s *Service) apiGet(w http.ResponseWriter, r *http.Request) error {
	v, err := s.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, v)
	return nil
}

func (s *Service) apiUpdate(w http.ResponseWriter, r *http.Request) error {
	var in Input
	if err := decode(w, r, &in); err != nil {
		return err
	}
	v, err := s.Update(r.Context(), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, v)
	return nil
}

func (s *Service) apiDelete(w http.ResponseWriter, r *http.Request) error {
	if err := s.Delete(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// testRequest is an unsaved configuration to test; Hook names the saved
// integration being edited, if any.
type testRequest struct {
	Input
	Hook string `json:"hook,omitempty"`
}

func (s *Service) apiTestUnsaved(w http.ResponseWriter, r *http.Request) error {
	var in testRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	res, err := s.Test(r.Context(), in.Hook, in.Input)
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, res)
	return nil
}

func (s *Service) apiTestSaved(w http.ResponseWriter, r *http.Request) error {
	res, err := s.TestSaved(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, res)
	return nil
}

func (s *Service) apiRotate(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		GraceSeconds *int64 `json:"graceSeconds"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	var grace time.Duration
	if in.GraceSeconds != nil {
		if *in.GraceSeconds < 0 || *in.GraceSeconds > 30*24*3600 {
			return invalid("graceSeconds", "The grace period must be between 0 and 30 days, in seconds.")
		}
		grace = time.Duration(*in.GraceSeconds) * time.Second
		if grace == 0 {
			grace = -1 // no grace: the old secret stops at once
		}
	}
	whsec, err := s.RotateSecret(r.Context(), r.PathValue("id"), grace)
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, created{Secret: whsec})
	return nil
}

func (s *Service) apiAutomations(w http.ResponseWriter, r *http.Request) error {
	list, err := s.ListAutomations(r.Context())
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"automations": list})
	return nil
}

func (s *Service) apiGetAutomation(w http.ResponseWriter, r *http.Request) error {
	v, err := s.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if v.Automation == nil {
		httpjson.Write(w, http.StatusOK, map[string]any{"automation": nil})
		return nil
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"automation": v.Automation})
	return nil
}

func (s *Service) apiSetAutomation(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		AutomationInput
		// SendOpen also sends the open issues the automation matches
		// and the integration was never sent (see SendOpen).
		SendOpen bool `json:"sendOpen"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	a, err := s.SetAutomation(r.Context(), r.PathValue("id"), in.AutomationInput)
	if err != nil {
		return err
	}
	out := map[string]any{"automation": a}
	if in.SendOpen && a.AutoSend {
		n, err := s.SendOpenNow(r.Context(), a.HookID)
		if err != nil {
			return err
		}
		out["sentNow"] = n
	}
	httpjson.Write(w, http.StatusOK, out)
	return nil
}

func (s *Service) apiPause(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Reason string `json:"reason"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := s.Pause(r.Context(), r.PathValue("id"), in.Reason); err != nil {
		return err
	}
	return s.apiGet(w, r)
}

func (s *Service) apiResume(w http.ResponseWriter, r *http.Request) error {
	n, err := s.Resume(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, map[string]int{"queued": n})
	return nil
}

func (s *Service) apiDeliveries(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := DeliveryFilter{Hook: q.Get("hook"), IssueID: q.Get("issueId"), EventID: q.Get("eventId"),
		Status: q.Get("status"), BeforeID: q.Get("before")}
	if id := r.PathValue("id"); id != "" {
		f.Hook = id
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return invalid("limit", "The limit must be a number from 1 to 1000.")
		}
		f.Limit = n
	}
	list, err := s.Deliveries(r.Context(), f)
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, map[string]any{"deliveries": list})
	return nil
}

func (s *Service) apiDelivery(w http.ResponseWriter, r *http.Request) error {
	h, err := s.hook(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	d, err := s.Delivery(r.Context(), r.PathValue("did"))
	if err != nil {
		return err
	}
	if d.HookID != h.ID {
		return fmt.Errorf("no delivery %q for integration %s: %w", d.ID, h.Name, ErrNotFound)
	}
	httpjson.Write(w, http.StatusOK, d)
	return nil
}

func (s *Service) apiResend(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		IDs []string `json:"ids"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if len(in.IDs) == 0 || len(in.IDs) > 1000 {
		return invalid("ids", "Give from 1 to 1000 delivery ids to resend.")
	}
	n, err := s.Resend(r.Context(), in.IDs...)
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, map[string]int{"queued": n})
	return nil
}

func (s *Service) apiResendDead(w http.ResponseWriter, r *http.Request) error {
	n, err := s.ResendDead(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	httpjson.Write(w, http.StatusOK, map[string]int{"queued": n})
	return nil
}

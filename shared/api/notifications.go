package api

import "net/http"

func (s *Server) registerNotifications(mux *http.ServeMux) {}
